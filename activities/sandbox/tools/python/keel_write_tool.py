"""The `write` tool's `run(request)`: creates parent directories, then writes the file atomically."""

import os

from keel_prelude import ToolError, atomic_write, encode_text, fs_error, resolve


def run(request):
    name = request['file_path']
    data = encode_text(request['content'])
    target = resolve(name)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        atomic_write(target, data)
    except OSError as error:
        raise ToolError('write: ' + fs_error(error, name)) from error
    return 'wrote %d bytes to %s' % (len(data), name)
