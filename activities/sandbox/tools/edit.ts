import { invalidInput } from './prepared-tool';
import type { PreparedTool } from './prepared-tool';
import { runPythonHelper } from './run-python-helper';
import { isAbsent } from './tool-input';

/**
 * Prepares an `edit` call: `{ file_path, old_string, new_string, replace_all? }`; `old_string` must be unique
 * (`python/keel_edit_tool.py`, in the container).
 */
export function prepareEdit(input: Record<string, unknown>): PreparedTool {
  const { file_path: filePath, old_string: oldString, new_string: newString, replace_all: replaceAll } = input;
  if (isAbsent(filePath) || filePath === '') return invalidInput('edit: file_path is required');
  if (typeof filePath !== 'string') return invalidInput('edit: file_path must be a string');
  if (isAbsent(oldString) || oldString === '') return invalidInput('edit: old_string is required');
  if (typeof oldString !== 'string') return invalidInput('edit: old_string must be a string');
  if (isAbsent(newString)) return invalidInput('edit: new_string is required');
  if (typeof newString !== 'string') return invalidInput('edit: new_string must be a string');
  if (!isAbsent(replaceAll) && typeof replaceAll !== 'boolean')
    return invalidInput('edit: replace_all must be a boolean');
  return {
    kind: 'ready',
    run: (context) =>
      runPythonHelper(context, {
        toolName: 'edit',
        request: {
          file_path: filePath,
          old_string: oldString,
          new_string: newString,
          replace_all: replaceAll === true ? 'yes' : '',
        },
      }),
  };
}
