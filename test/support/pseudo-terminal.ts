import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';

/** A program running in a pseudo-terminal: what it printed (without terminal control codes) and its keyboard. */
export interface PseudoTerminal {
  child: ChildProcess;
  /** Everything printed so far, with control sequences and carriage returns removed. */
  screen(): string;
  /** Types `keys` (`\r` is Enter, `\x03` is Ctrl-C, `\x04` is Ctrl-D). */
  type(keys: string): void;
  /** Resolves once the printed text after `from` (an index into `screen()`) matches `pattern`; returns the index after the match. */
  waitFor(pattern: string | RegExp, from?: number, timeoutMs?: number): Promise<number>;
  /** Resolves with the exit code of the program. */
  exited(): Promise<number | null>;
}

/**
 * Runs `command` in a pseudo-terminal made by util-linux `script` (on Debian by default, no native build), so the
 * program sees a terminal on stdin and stdout: raw keys, Ctrl-C as a key rather than a signal. `script -e` exits with
 * the program's exit code.
 */
export function startInPseudoTerminal(
  command: string[],
  options: { cwd: string; env: Record<string, string> },
): PseudoTerminal {
  if (spawnSync('script', ['--version']).error !== undefined) {
    throw new Error('`script` (util-linux, Debian package bsdutils) is not on PATH: the terminal tests need it');
  }
  const quoted = command.map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qefc', quoted, '/dev/null'], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  const onData = (chunk: Buffer): void => {
    raw += chunk.toString();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const screen = (): string => stripVTControlCharacters(raw).replaceAll('\r', '');
  return {
    child,
    screen,
    type: (keys) => void child.stdin?.write(keys),
    exited: () => exit,
    waitFor: async (pattern, from = 0, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = screen().slice(from);
        const match = typeof pattern === 'string' ? { index: text.indexOf(pattern), length: pattern.length } : null;
        const regexMatch = typeof pattern === 'string' ? null : pattern.exec(text);
        if (match !== null && match.index >= 0) return from + match.index + match.length;
        if (regexMatch !== null) return from + regexMatch.index + regexMatch[0].length;
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`no ${String(pattern)} on the terminal after index ${from}; it shows:\n${screen()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}
