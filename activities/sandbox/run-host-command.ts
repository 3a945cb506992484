import { spawn } from 'node:child_process';

import { cancellationOf } from './cancellation-of';

/** One program to run on the worker's host (never through a shell), with its whole environment and limits. */
export interface HostCommandRequest {
  command: string;
  args: string[];
  /** The child's whole environment: nothing of the worker's own is passed on. */
  env: Record<string, string>;
  timeoutMs: number;
  /** When it aborts, the child is killed and the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** How a host command ended. */
export interface HostCommandResult {
  /** The exit status; `null` when it was killed (a timeout) or could not start. */
  exitCode: number | null;
  timedOut: boolean;
  /** The tail of its standard error (the last `MAX_STDERR_BYTES`), or why it could not start. */
  stderr: string;
}

/** Bytes of standard error kept: git's telling lines come last. */
const MAX_STDERR_BYTES = 64 * 1024;

/**
 * Runs a program on the worker's host with a deadline and the Activity's cancellation, standard output discarded and
 * the tail of standard error kept. A program that cannot start (not installed) is a result with its reason, not an
 * error; a cancellation rejects once the child is killed.
 */
export function runHostCommand(request: HostCommandRequest): Promise<HostCommandResult> {
  request.signal?.throwIfAborted();
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal === undefined ? deadline : AbortSignal.any([request.signal, deadline]);
  return new Promise((resolve, reject) => {
    let stderr = Buffer.alloc(0);
    let settled = false;
    const child = spawn(request.command, request.args, {
      env: request.env,
      stdio: ['ignore', 'ignore', 'pipe'],
      signal,
      killSignal: 'SIGKILL',
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > MAX_STDERR_BYTES) stderr = stderr.subarray(stderr.length - MAX_STDERR_BYTES);
    });
    const finish = (exitCode: number | null, reason?: string): void => {
      if (settled) return;
      settled = true;
      if (request.signal?.aborted) {
        reject(cancellationOf(request.signal));
        return;
      }
      const text = stderr.toString('utf8');
      resolve({ exitCode, timedOut: deadline.aborted, stderr: reason === undefined ? text : `${text}${reason}` });
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      // An abort kills the child; 'close' follows. A program that could not start gets no 'close' of its own.
      if (error.name === 'AbortError') return;
      finish(null, `${request.command} could not run on the worker: ${error.message}`);
    });
    child.once('close', (code) => finish(code));
  });
}
