"""What every file tool's `run(request)` relies on: path resolution against the workdir, the SDK's errno wording,
`ToolError` and an atomic write.

Both the per-call helper (keel_file_tool_main) and the persistent runner load it, so a file tool behaves the same on
either path. It imports only modules that are built in or already loaded at start-up: the image has no compiled `.pyc`
files, so `json` or `tempfile` would add about 100 ms to every helper.
"""

import errno
import os
import stat

from keel_constants import WORKDIR

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
    """An expected failure of a file tool; its text is the tool result the model sees."""


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
