import { invalidInput } from './prepared-tool';
import type { PreparedTool } from './prepared-tool';
import { runPythonHelper } from './run-python-helper';
import { isAbsent } from './tool-input';

/** The `write` tool's Python module (its `run(request)`): creates parent directories, then writes atomically. */
export const WRITE_TOOL_PYTHON = `
def run(request):
    name = request['file_path']
    data = encode_text(request['content'])
    target = resolve(name)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        atomic_write(target, data)
    except OSError as error:
        raise ToolError('write: ' + fs_error(error, name))
    return 'wrote %d bytes to %s' % (len(data), name)
`;

/** Prepares a `write` call: `{ file_path, content }`, creating parent directories and replacing the file atomically. */
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
        body: WRITE_TOOL_PYTHON,
        request: { file_path: filePath, content: content ?? '' },
      }),
  };
}
