"""The `read` tool's `run(request)`, which mirrors the SDK's `read`: a whole file up to 256 KiB, or lines
[start, end] (1-based, inclusive, end <= 0 meaning the last line) streamed from a larger file with the cap applied to
the selected bytes. A file is returned as its bytes, whatever they are.
"""

import os
import stat

from keel_prelude import MAX_FILE_BYTES, ToolError, fs_error, resolve


def over_limit(name, start, end, start_line, end_line):
    if end - start == 1:
        return ToolError(
            'read: line %d of %s alone exceeds %d-byte limit. ' % (start + 1, name, MAX_FILE_BYTES)
            + 'The read tool cannot return part of a line, so view_range cannot narrow this further.'
        )
    return ToolError(
        'read: view_range [%d, %d] of %s exceeds %d-byte limit. ' % (start_line, end_line, name, MAX_FILE_BYTES)
        + 'Narrow the view_range to read a smaller portion.'
    )


def read_range(target, name, start_line, end_line):
    start = max(0, start_line - 1)
    end = end_line if end_line > 0 else float('inf')
    if end <= start:
        return b''
    selected = bytearray()
    line = 0
    with open(target, 'rb') as handle:
        while line < end:
            piece = handle.readline(64 * 1024)
            if not piece:
                break
            terminated = piece.endswith(b'\n')
            if line >= start:
                selected += piece[:-1] if terminated and line + 1 >= end else piece
                if len(selected) > MAX_FILE_BYTES:
                    raise over_limit(name, start, end, start_line, end_line)
            if terminated:
                line += 1
    return bytes(selected)


def run(request):
    name = request['file_path']
    view_range = [int(line) for line in request['view_range'].split(',')] if request['view_range'] else None
    target = resolve(name)
    try:
        info = os.stat(target)
        if not stat.S_ISREG(info.st_mode):
            raise ToolError('read: %s is not a regular file' % name)
        if info.st_size > MAX_FILE_BYTES:
            if not view_range:
                raise ToolError(
                    'read: %s is %d bytes, exceeds %d-byte limit. ' % (name, info.st_size, MAX_FILE_BYTES)
                    + 'Use the view_range parameter to read specific line ranges, e.g. view_range: [1, 500].'
                )
            return read_range(target, name, view_range[0], view_range[1])
        with open(target, 'rb') as handle:
            data = handle.read()
    except OSError as error:
        raise ToolError('read: ' + fs_error(error, name)) from error
    if not view_range:
        return data
    lines = data.split(b'\n')
    start = max(0, view_range[0] - 1)
    end = view_range[1] if view_range[1] > 0 else len(lines)
    return b'\n'.join(lines[start:end])
