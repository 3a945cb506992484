import type { Worker } from '@temporalio/worker';

/**
 * `worker`, whose `run()` (and so `runUntil()`) calls `close` once the worker has stopped, however it stopped: what its
 * Activities hold outside Temporal (the sandbox egress proxy) lives exactly as long as the worker, whoever runs it.
 */
export function closeWhenStopped(worker: Worker, close: () => Promise<void>): Worker {
  const run = worker.run.bind(worker);
  worker.run = async () => {
    try {
      await run();
    } finally {
      await close();
    }
  };
  return worker;
}
