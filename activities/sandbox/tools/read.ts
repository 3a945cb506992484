import { posix } from 'node:path';

import { SANDBOX_WORKDIR } from '../sandbox-constants';
import { invalidInput } from './prepared-tool';
import type { PreparedTool } from './prepared-tool';
import { runPythonHelper } from './run-python-helper';
import { isAbsent, isInteger } from './tool-input';

/**
 * Prepares a `read` call: `{ file_path, view_range? }`, a UTF-8 text file relative to `/workspace`. Its output over the
 * cap is not saved again: the whole text is already in the file, so the cut marker says to read it in parts. The work
 * is `run` of `python/keel_read_tool.py`, in the container.
 */
export function prepareRead(input: Record<string, unknown>): PreparedTool {
  const { file_path: filePath, view_range: viewRange } = input;
  if (isAbsent(filePath) || filePath === '') return invalidInput('read: file_path is required');
  if (typeof filePath !== 'string') return invalidInput('read: file_path must be a string');
  const hasRange = Array.isArray(viewRange) && viewRange.length > 0;
  if (!isAbsent(viewRange) && !Array.isArray(viewRange)) {
    return invalidInput('read: view_range must be [start_line, end_line]');
  }
  if (hasRange && !(viewRange.length === 2 && viewRange.every(isInteger))) {
    return invalidInput('read: view_range must be [start_line, end_line]');
  }
  return {
    kind: 'ready',
    run: (context) =>
      runPythonHelper(context, {
        toolName: 'read',
        request: { file_path: filePath, view_range: hasRange ? viewRange.join(',') : '' },
        cutNote: `read ${posix.resolve(SANDBOX_WORKDIR, filePath)} in smaller parts with view_range to see them`,
      }),
  };
}
