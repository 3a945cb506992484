"""The `edit` tool's `run(request)`: replaces a unique `old_string` (or all of them with `replace_all`). Bytes that are
not UTF-8 survive an edit (surrogateescape) instead of turning into replacement characters.
"""

import os
import stat

from keel_prelude import MAX_FILE_BYTES, ToolError, atomic_write, encode_text, fs_error, resolve


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
            raise ToolError(
                'edit: %s is %d bytes, exceeds %d-byte limit. ' % (name, info.st_size, MAX_FILE_BYTES)
                + 'The edit tool loads the whole file and cannot modify a file this large.'
            )
        with open(target, 'rb') as handle:
            data = handle.read().decode('utf-8', 'surrogateescape')
    except OSError as error:
        raise ToolError('edit: ' + fs_error(error, name)) from error
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
        raise ToolError('edit: write: ' + fs_error(error, name)) from error
    return 'edited %s (%d replacement(s))' % (name, count if request['replace_all'] else 1)
