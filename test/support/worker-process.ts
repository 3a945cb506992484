import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { spawnReady } from './spawn-ready';

const ROOT = path.resolve(__dirname, '..', '..');

/** Starts `worker/main.ts` as its own process with `environment`, records it in `children`, and resolves once it polls. */
export async function startWorkerProcess(
  environment: Record<string, string>,
  children: ChildProcess[],
): Promise<ChildProcess> {
  const { child } = await spawnReady(['--import', 'tsx', path.join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    env: environment,
    readyText: 'keel worker: polling',
  });
  children.push(child);
  return child;
}
