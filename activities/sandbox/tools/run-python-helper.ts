import type { ExecuteResult } from '../../../common/sandbox';
import { SANDBOX_WORKDIR } from '../sandbox-constants';
import type { ToolContext } from './prepared-tool';

/** The exit status a helper uses for an expected tool error; its stdout is then the error text. */
const TOOL_ERROR_STATUS = 3;

// Shared by every helper: path resolution against the workdir, the SDK's errno wording, an atomic write, and the
// protocol (request fields on stdin, result text on stdout, exit status 3 for a tool error). It imports only modules
// that are built in or already loaded at start-up: `json` and `tempfile` would add about 100 ms to every call.
const PRELUDE = `
import errno, os, stat, sys

WORKDIR = ${JSON.stringify(SANDBOX_WORKDIR)}
MAX_FILE_BYTES = 256 * 1024
ERRNO_MESSAGES = {
    errno.ENOENT: 'no such file or directory',
    errno.EACCES: 'permission denied',
    errno.EPERM: 'permission denied',
    errno.ENOTDIR: 'not a directory',
    errno.EISDIR: 'is a directory',
    errno.ELOOP: 'too many levels of symbolic links',
    errno.ENAMETOOLONG: 'file name too long',
    errno.ENOSPC: 'no space left on device',
    errno.EMFILE: 'too many open files',
    errno.ENFILE: 'too many open files',
    errno.EROFS: 'read-only file system',
}

class ToolError(Exception):
    pass

def fs_error(error, name):
    message = ERRNO_MESSAGES.get(error.errno)
    if message is None:
        code = errno.errorcode.get(error.errno) if error.errno else None
        message = 'i/o error (%s)' % code if code else 'i/o error'
    return '%s: %s' % (name, message)

def resolve(path):
    return os.path.realpath(os.path.join(WORKDIR, path))

def encode_text(text):
    try:
        return text.encode('utf-8', 'surrogateescape')
    except UnicodeEncodeError:
        return text.encode('utf-8', 'replace')

def atomic_write(target, data):
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    temporary = os.path.join(os.path.dirname(target), '.keel-write-' + os.urandom(6).hex())
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, 'wb') as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
`;

const EPILOGUE = `
def read_request():
    data = sys.stdin.buffer.read()
    fields = []
    position = 0
    while position < len(data):
        colon = data.index(b':', position)
        end = colon + 1 + int(data[position:colon])
        fields.append(data[colon + 1:end].decode('utf-8', 'surrogateescape'))
        position = end
    return dict(zip(fields[0::2], fields[1::2]))

request = read_request()
try:
    result = run(request)
except ToolError as error:
    sys.stdout.buffer.write(encode_text(str(error)))
    sys.stdout.flush()
    sys.exit(${TOOL_ERROR_STATUS})
sys.stdout.buffer.write(result if isinstance(result, bytes) else encode_text(result))
`;

/** One file tool's Python code (a `run(request)` function) and the request it gets, as a dict of strings. */
export interface PythonHelperRequest {
  toolName: string;
  /** Python source that defines `run(request)`, returning the output text or raising `ToolError`. */
  body: string;
  request: Record<string, string>;
}

/**
 * Runs a file tool as a small Python program inside the container (never on the host), with its request on stdin, and
 * maps its exit status to the tool result: 0 is output, 3 is a tool error, anything else an internal error.
 */
export async function runPythonHelper(context: ToolContext, helper: PythonHelperRequest): Promise<ExecuteResult> {
  const result = await context.run({
    argv: ['python3', '-I', '-c', PRELUDE + helper.body + EPILOGUE],
    stdin: encodeFields(helper.request),
    timeoutMs: context.commandTimeoutMs,
    maxOutputBytes: context.maxOutputBytes,
  });
  if (result.timedOut) {
    return { isError: true, output: `${helper.toolName}: timed out after ${context.commandTimeoutMs}ms` };
  }
  if (result.exitCode === 0) return { isError: false, output: result.output };
  if (result.exitCode === TOOL_ERROR_STATUS) return { isError: true, output: result.output };
  const detail = result.errorOutput.trim() || `exit status ${result.exitCode}`;
  return { isError: true, output: `${helper.toolName}: internal error: ${detail}` };
}

/** Encodes the request as length-prefixed fields (`<bytes>:<text>`, key then value), which Python parses unaided. */
function encodeFields(request: Record<string, string>): string {
  return Object.entries(request)
    .flat()
    .map((field) => `${Buffer.byteLength(field, 'utf8')}:${field}`)
    .join('');
}
