import { invalidInput } from './prepared-tool';
import type { PreparedTool } from './prepared-tool';
import { runPythonHelper } from './run-python-helper';
import { isAbsent } from './tool-input';

/**
 * The `edit` tool's Python module (its `run(request)`); bytes that are not UTF-8 survive an edit (surrogateescape)
 * instead of turning into replacement characters.
 */
export const EDIT_TOOL_PYTHON = `
def run(request):
    name = request['file_path']
    old = request['old_string']
    new = request['new_string']
    target = resolve(name)
    try:
        info = os.stat(target)
        if not stat.S_ISREG(info.st_mode):
            raise ToolError('edit: %s is not a regular file' % name)
        if info.st_size > MAX_FILE_BYTES:
            raise ToolError('edit: %s is %d bytes, exceeds %d-byte limit. ' % (name, info.st_size, MAX_FILE_BYTES) +
                'The edit tool loads the whole file and cannot modify a file this large.')
        with open(target, 'rb') as handle:
            data = handle.read().decode('utf-8', 'surrogateescape')
    except OSError as error:
        raise ToolError('edit: ' + fs_error(error, name))
    count = data.count(old)
    if count == 0:
        raise ToolError('edit: old_string not found in %s' % name)
    if request['replace_all']:
        updated = data.replace(old, new)
    else:
        if count > 1:
            raise ToolError('edit: old_string appears %d times in %s (must be unique)' % (count, name))
        updated = data.replace(old, new, 1)
    try:
        atomic_write(target, encode_text(updated))
    except OSError as error:
        raise ToolError('edit: write: ' + fs_error(error, name))
    return 'edited %s (%d replacement(s))' % (name, count if request['replace_all'] else 1)
`;

/** Prepares an `edit` call: `{ file_path, old_string, new_string, replace_all? }`; `old_string` must be unique. */
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
        body: EDIT_TOOL_PYTHON,
        request: {
          file_path: filePath,
          old_string: oldString,
          new_string: newString,
          replace_all: replaceAll === true ? 'yes' : '',
        },
      }),
  };
}
