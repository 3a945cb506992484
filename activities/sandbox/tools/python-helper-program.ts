import { SANDBOX_WORKDIR } from '../sandbox-constants';

/** The exit status a helper uses for an expected tool error; its stdout is then the error text. */
export const TOOL_ERROR_STATUS = 3;

/**
 * The Python definitions every file tool's `run(request)` relies on: path resolution against the workdir, the SDK's
 * errno wording, `ToolError` and an atomic write. Both the per-call helper and the persistent runner load it, so a
 * file tool behaves the same on either path. It imports only modules that are built in or already loaded at start-up:
 * the image has no compiled `.pyc` files, so `json` or `tempfile` would add about 100 ms to every helper.
 */
export const PYTHON_HELPER_PRELUDE = `
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

# Read once: changing the umask to read it is not safe once a runner has threads and spawns commands.
UMASK = os.umask(0)
os.umask(UMASK)

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
        mode = 0o666 & ~UMASK
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

// The per-call protocol: request fields on stdin, result text on stdout, exit status 3 for a tool error.
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

/** The file tools that run as Python: each one's module defines `run(request)`. */
export type FileToolName = 'read' | 'write' | 'edit' | 'glob';

/** One file tool call: its Python module (defining `run(request)`) and the request, as a dict of strings. */
export interface PythonHelperRequest {
  toolName: FileToolName;
  /** Python source that defines `run(request)`, returning the output text or raising `ToolError`. */
  body: string;
  request: Record<string, string>;
  /** Said in the cut marker when the output is over the cap: how the model can see what was cut. */
  cutNote?: string;
}

/**
 * The one-shot command that runs a file tool as its own Python process (the path without a persistent runner): the
 * program as argv, the request as length-prefixed fields on stdin.
 */
export function pythonHelperCommand(helper: PythonHelperRequest): { argv: string[]; stdin: string } {
  return {
    argv: ['python3', '-I', '-c', PYTHON_HELPER_PRELUDE + helper.body + EPILOGUE],
    stdin: encodeFields(helper.request),
  };
}

/** Encodes the request as length-prefixed fields (`<bytes>:<text>`, key then value), which Python parses unaided. */
function encodeFields(request: Record<string, string>): string {
  return Object.entries(request)
    .flat()
    .map((field) => `${Buffer.byteLength(field, 'utf8')}:${field}`)
    .join('');
}
