import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(__dirname, '..');
/** Everything the bundle is made from: the Workflow code, what it imports from common/, and the locked SDK versions. */
const SOURCES = ['workflows', 'common'];
/** The files that say how the bundle is made: its entry point and Workflow interceptor modules, the bundler call. */
const BUNDLING_FILES = ['workflows-path.ts', 'bundle-workflows.ts'].map((file) => path.join(__dirname, file));

/**
 * Returns the path of the bundled Workflow code, building it first in a child process when the sources changed.
 * The file name carries a hash of the sources, so a stale bundle is never used and workers of one version share one.
 */
export async function prebuiltWorkflowBundle(cacheDir: string): Promise<{ codePath: string }> {
  const hash = createHash('sha256');
  for (const file of [...SOURCES.flatMap((folder) => sourceFiles(path.join(ROOT, folder))).sort(), ...BUNDLING_FILES]) {
    hash.update(file).update(readFileSync(file));
  }
  hash.update(readFileSync(path.join(ROOT, 'package-lock.json')));
  const codePath = path.join(cacheDir, `workflow-bundle-${hash.digest('hex').slice(0, 16)}.js`);
  if (!existsSync(codePath)) {
    mkdirSync(cacheDir, { recursive: true });
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'bundle-workflows.ts'), codePath],
      {
        cwd: ROOT,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  }
  return { codePath };
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}
