import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { prebuiltWorkflowBundle } from '../../worker/prebuilt-workflow-bundle';

/**
 * Where the tests' Workflow bundle is kept, named by the hash of its sources as every data folder's bundle is: built
 * once for a test run (by the first test file that needs it, in the child process a worker would bundle in), and
 * again only when the Workflow code changed.
 */
const SHARED_CACHE = path.resolve(__dirname, '..', '..', '.keel', 'cache', 'test-workflow-bundles');

let codePath: Promise<string> | undefined;
let bundle: Promise<{ code: string }> | undefined;

/** The shared bundle's file, built when this version of the sources has none yet. */
function sharedCodePath(): Promise<string> {
  codePath ??= prebuiltWorkflowBundle(SHARED_CACHE).then((built) => {
    removeOtherVersions(built.codePath);
    return built.codePath;
  });
  return codePath;
}

/** How old a half-written bundle must be to be left over from a build that died, not one being written. */
const STALE_PARTIAL_MS = 10 * 60_000;

/** Removes the bundles of other versions of the sources from the shared cache, so it does not grow run after run. */
function removeOtherVersions(keep: string): void {
  for (const name of readdirSync(SHARED_CACHE)) {
    const file = path.join(SHARED_CACHE, name);
    if (file === keep) continue;
    const writtenAt = statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (name.endsWith('.partial') && Date.now() - writtenAt < STALE_PARTIAL_MS) continue;
    rmSync(file, { force: true });
  }
}

/** The session Workflow bundled once for all test files, so each worker of a test file does not bundle again. */
export function sharedWorkflowBundle(): Promise<{ code: string }> {
  bundle ??= sharedCodePath().then((file) => ({ code: readFileSync(file, 'utf8') }));
  return bundle;
}

/**
 * Puts the shared bundle into the bundle cache of the data folder `dataDir` (`<dataDir>/cache`, where `keel worker`,
 * `keel server` and `keel up` look for it by the same hash), so the processes a test starts on that folder do not
 * bundle again.
 */
export async function seedWorkflowBundle(dataDir: string): Promise<void> {
  const file = await sharedCodePath();
  const target = path.join(dataDir, 'cache', path.basename(file));
  if (existsSync(target)) return;
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(file, target);
}
