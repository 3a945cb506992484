import { posix } from 'node:path';

import { SANDBOX_WORKDIR } from '../sandbox-constants';
import { invalidInput } from './prepared-tool';
import type { PreparedTool } from './prepared-tool';
import { isAbsent } from './tool-input';

const GREP_OUTPUT_LIMIT = 100 * 1024;
const GREP_TIMEOUT_MS = 60_000;

/**
 * Prepares a `grep` call: `{ pattern, path? }`, a regex searched with ripgrep inside the container, as the SDK does:
 * `path:line:text` lines, `no matches` when there is none. Matches over the cap keep their head and tail, and are
 * saved whole to `context.outputFile`, which the cut marker names.
 */
export function prepareGrep(input: Record<string, unknown>): PreparedTool {
  const { pattern, path } = input;
  if (isAbsent(pattern) || pattern === '') return invalidInput('grep: pattern is required');
  if (typeof pattern !== 'string') return invalidInput('grep: pattern must be a string');
  if (!isAbsent(path) && typeof path !== 'string') return invalidInput('grep: path must be a string');
  const searchPath = path ? posix.resolve(SANDBOX_WORKDIR, path) : SANDBOX_WORKDIR;
  return {
    kind: 'ready',
    run: async (context) => {
      const timeoutMs = Math.min(GREP_TIMEOUT_MS, context.commandTimeoutMs);
      const result = await context.run({
        argv: ['rg', '--no-config', '-n', '--no-heading', '-e', pattern, '--', searchPath],
        timeoutMs,
        maxOutputBytes: Math.min(GREP_OUTPUT_LIMIT, context.maxOutputBytes),
        outputFile: context.outputFile,
      });
      if (result.timedOut) return { isError: true, output: `grep: timed out after ${timeoutMs / 1000}s` };
      if (result.exitCode === 0) return { isError: false, output: result.output };
      if (result.exitCode === 1) return { isError: false, output: 'no matches' };
      const detail = result.errorOutput.trim() || `exit ${result.exitCode}`;
      return { isError: true, output: `grep: rg failed: ${detail}` };
    },
  };
}
