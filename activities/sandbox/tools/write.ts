import { invalidInput } from './prepared-tool';
import type { PreparedTool } from './prepared-tool';
import { runPythonHelper } from './run-python-helper';
import { isAbsent } from './tool-input';

/**
 * Prepares a `write` call: `{ file_path, content }`, creating parent directories and replacing the file atomically
 * (`python/keel_write_tool.py`, in the container).
 */
export function prepareWrite(input: Record<string, unknown>): PreparedTool {
  const { file_path: filePath, content } = input;
  if (isAbsent(filePath) || filePath === '') return invalidInput('write: file_path is required');
  if (typeof filePath !== 'string') return invalidInput('write: file_path must be a string');
  if (!isAbsent(content) && typeof content !== 'string') return invalidInput('write: content must be a string');
  return {
    kind: 'ready',
    run: (context) =>
      runPythonHelper(context, {
        toolName: 'write',
        request: { file_path: filePath, content: content ?? '' },
      }),
  };
}
