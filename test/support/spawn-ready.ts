import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** A child process that printed its ready line, with everything it printed so far. */
export interface ReadyProcess {
  child: ChildProcess;
  output(): string;
}

/**
 * Starts `node <args>` and resolves once its stdout or stderr contains `readyText`; rejects with its output when it
 * exits first or `timeoutMs` passes.
 */
export function spawnReady(
  args: string[],
  options: { cwd: string; env: Record<string, string>; readyText: string; timeoutMs?: number },
): Promise<ReadyProcess> {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "${options.readyText}" within ${options.timeoutMs ?? 120_000} ms:\n${output}`)),
      options.timeoutMs ?? 120_000,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(options.readyText)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${options.readyText}":\n${output}`));
    });
  });
}
