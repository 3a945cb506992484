import { invalidInput } from './prepared-tool';
import type { PreparedTool } from './prepared-tool';
import { runPythonHelper } from './run-python-helper';
import { isAbsent } from './tool-input';

/**
 * Prepares a `glob` call: `{ pattern, path? }`, matching files under `/workspace` (or `path`), newest first. Its output
 * is at most 200 paths, so it is over the cap only with very long paths; it is then cut without being saved, and the
 * marker says to narrow the search. The matching is `python/keel_glob_tool.py`, in the container.
 */
export function prepareGlob(input: Record<string, unknown>): PreparedTool {
  const { pattern, path } = input;
  if (isAbsent(pattern) || pattern === '') return invalidInput('glob: pattern is required');
  if (typeof pattern !== 'string') return invalidInput('glob: pattern must be a string');
  if (!isAbsent(path) && typeof path !== 'string') return invalidInput('glob: path must be a string');
  if (pattern.startsWith('/')) {
    return invalidInput('glob: absolute pattern not permitted; pass a relative pattern (and optionally path)');
  }
  if (pattern.split(/[\\/{},]/).includes('..')) return invalidInput('glob: ".." is not permitted in the pattern');
  return {
    kind: 'ready',
    run: (context) =>
      runPythonHelper(context, {
        toolName: 'glob',
        request: { pattern, path: path ?? '' },
        cutNote: 'narrow the pattern or the path to see them',
      }),
  };
}
