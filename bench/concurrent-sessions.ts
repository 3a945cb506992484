import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnReady } from '../test/support/spawn-ready';
import { startBenchStack } from './bench-stack';

/** Outcome of the concurrency benchmark. */
export interface ConcurrencyResult {
  sessions: number;
  stepsPerSession: number;
  wallMs: number;
  errors: number;
  peakWorkerRssBytes: number;
}

const ROOT = path.resolve(__dirname, '..');

/**
 * `sessions` sessions at once, each running `steps` bash tool steps, against a worker in its own process, so its
 * peak resident memory (the kernel's VmHWM) is the worker's alone.
 */
export async function measureConcurrentSessions(sessions: number, steps: number): Promise<ConcurrencyResult> {
  const bench = await startBenchStack({}, false);
  const { child: worker } = await spawnReady(['--import', 'tsx', path.join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    env: bench.environment,
    readyText: 'keel worker: polling',
  });
  try {
    const created = await Promise.all(
      Array.from({ length: sessions }, (_, index) => bench.client.createSession({ title: `load ${index}` })),
    );
    let errors = 0;
    const started = performance.now();
    await Promise.all(
      created.map(async (session) => {
        try {
          const message = await bench.client.sendMessage(session.id, `steps:${steps}`);
          const idle = await bench.client.waitForIdle(session.id, message.id, {
            onItem: (item) => {
              if (item.kind !== 'event') return;
              if (
                item.event.type === 'session.error' ||
                (item.event.type === 'agent.tool_result' && item.event.is_error === true)
              )
                errors += 1;
            },
          });
          if (idle.type !== 'session.status_idle' || idle.stop_reason.type !== 'end_turn') errors += 1;
        } catch {
          errors += 1;
        }
      }),
    );
    const wallMs = performance.now() - started;
    const status = readFileSync(`/proc/${worker.pid}/status`, 'utf8');
    const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
    await Promise.all(created.map((session) => bench.client.endSession(session.id)));
    return { sessions, stepsPerSession: steps, wallMs, errors, peakWorkerRssBytes: peakKb * 1024 };
  } finally {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
    await bench.stop();
  }
}
