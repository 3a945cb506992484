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

/** How a host program's failure crosses back: `execFile`'s error as plain data. */
export interface HostProcessFailure {
  message: string;
  code: string | number | null;
  killed: boolean;
  signal: string | null;
}

/** How it ended: its output, and the error `execFile` gave (or threw), if any. */
export interface HostProcessReply {
  id: number;
  stdout: string;
  stderr: string;
  error: HostProcessFailure | null;
}

/** `execFile`'s error (or what it threw) as plain data. */
function failureOf(error: unknown): HostProcessFailure {
  const failed = error as Partial<NodeJS.ErrnoException & { code: string | number; killed: boolean; signal: string }>;
  return {
    message: error instanceof Error ? error.message : String(error),
    code: failed.code ?? null,
    killed: failed.killed ?? false,
    signal: failed.signal ?? null,
  };
}

// The thread that starts the worker's host programs (see `execFileOffThread`): Node's `spawn` holds its calling thread
// until the child has started (fork, then exec), which on a busy host takes tens of milliseconds; here that wait holds
// this thread, not the event loop that runs the Activities. A program that cannot even be started (`execFile` throws)
// fails its own request only.
parentPort?.on('message', (request: HostProcessRequest) => {
  const reply = (stdout: string, stderr: string, error: unknown): void => {
    const message: HostProcessReply = { id: request.id, stdout, stderr, error: error ? failureOf(error) : null };
    parentPort?.postMessage(message);
  };
  try {
    execFile(request.file, request.args, { env: request.env, timeout: request.timeoutMs }, (error, stdout, stderr) =>
      reply(stdout, stderr, error),
    );
  } catch (error) {
    reply('', '', error);
  }
});
