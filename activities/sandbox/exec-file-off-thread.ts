import path from 'node:path';
import { Worker } from 'node:worker_threads';

import type { HostProcessReply, HostProcessRequest } from './host-process-thread';

/** What `execFileOffThread` runs: a program (never through a shell), its whole environment and its deadline. */
export interface OffThreadCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
}

/** What it printed. */
export interface OffThreadOutput {
  stdout: string;
  stderr: string;
}

/** A failure of `execFileOffThread`: `execFile`'s error message, with what the program printed. */
export class OffThreadCommandError extends Error {
  constructor(
    message: string,
    readonly stdout: string,
    readonly stderr: string,
    readonly code: string | number | null,
  ) {
    super(message);
    this.name = 'OffThreadCommandError';
  }
}

const THREAD_FILE = path.join(__dirname, 'host-process-thread.ts');

let thread: Worker | null = null;
let nextId = 0;
const pending = new Map<number, { resolve: (output: OffThreadOutput) => void; reject: (error: Error) => void }>();

/**
 * `execFile` run from a thread of its own, so the wait for the child to start (Node's `spawn` holds the calling thread
 * through fork and exec: tens of milliseconds on a busy host) never stalls the worker's event loop. One thread per
 * process, started on first use; it keeps the process alive only while a program runs. Rejects with an
 * `OffThreadCommandError` when the program fails, times out or cannot start, as `execFile` would.
 */
export function execFileOffThread(command: OffThreadCommand): Promise<OffThreadOutput> {
  const worker = hostProcessThread();
  const id = nextId++;
  const request: HostProcessRequest = { id, ...command };
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.ref();
    worker.postMessage(request);
  });
}

function hostProcessThread(): Worker {
  if (thread !== null) return thread;
  // The thread runs TypeScript as the worker does (tsx), whether the worker was started by `keel` or by a test runner.
  const worker = new Worker(THREAD_FILE, { execArgv: ['--require', require.resolve('tsx/cjs')] });
  worker.on('message', (reply: HostProcessReply) => {
    const waiting = pending.get(reply.id);
    if (waiting === undefined) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.error === null) waiting.resolve({ stdout: reply.stdout, stderr: reply.stderr });
    else
      waiting.reject(
        new OffThreadCommandError(reply.error.message, reply.stdout, reply.stderr, reply.error.code ?? null),
      );
  });
  const fail = (error: Error): void => {
    if (thread === worker) thread = null;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the host process thread exited (code ${code})`)));
  worker.unref();
  thread = worker;
  return worker;
}
