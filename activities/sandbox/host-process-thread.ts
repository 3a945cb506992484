import { execFile } from 'node:child_process';
import { parentPort } from 'node:worker_threads';

/** A host program for the thread to run (`execFile`'s arguments, options limited to what crosses threads). */
export interface HostProcessRequest {
  id: number;
  file: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
}

/** How it ended: its output, and the error `execFile` gave, if any, as plain data. */
export interface HostProcessReply {
  id: number;
  stdout: string;
  stderr: string;
  error: { message: string; code?: string | number | null; killed?: boolean; signal?: string | null } | null;
}

// The thread that starts the worker's host programs (see `execFileOffThread`): Node's `spawn` holds its calling thread
// until the child has started (fork, then exec), which on a busy host takes tens of milliseconds; here that wait holds
// this thread only, never the event loop that runs the Activities.
parentPort?.on('message', (request: HostProcessRequest) => {
  execFile(request.file, request.args, { env: request.env, timeout: request.timeoutMs }, (error, stdout, stderr) => {
    const reply: HostProcessReply = {
      id: request.id,
      stdout,
      stderr,
      error:
        error === null
          ? null
          : { message: error.message, code: error.code ?? null, killed: error.killed, signal: error.signal ?? null },
    };
    parentPort?.postMessage(reply);
  });
});
