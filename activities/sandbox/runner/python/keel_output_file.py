"""The runner's `OutputFile`, which saves a command's stdout as the runner streams it (see `OutputFileTarget`).

It keeps the first `afterBytes` bytes in memory and, once the output grows past them, replaces the file (after removing
the oldest saved outputs beyond `MAX_OUTPUT_FILES`, unless the folder is reached through a symbolic link, which could
point at the model's own files) and writes every byte to it, up to `maxBytes`, then the truncation note. A failed write
(a full volume) removes the partial file and is reported instead. `finish()` gives the `exit` frame's fields.
"""

import os

from keel_constants import MAX_OUTPUT_FILES, OUTPUT_FILE_TRUNCATION_NOTE
from keel_frames import quote
from keel_prelude import encode_text


def prune_output_files(directory):
    if os.path.realpath(directory) != directory:
        return
    files = []
    with os.scandir(directory) as entries:
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False):
                    files.append((entry.stat(follow_symlinks=False).st_mtime, entry.path))
            except OSError:
                pass
    files.sort(reverse=True)
    for _modified, path in files[MAX_OUTPUT_FILES - 1 :]:
        try:
            os.unlink(path)
        except OSError:
            pass


class OutputFile:
    def __init__(self, request):
        self.path = str(request['path'])
        self.after_bytes = int(request['afterBytes'])
        self.max_bytes = int(request['maxBytes'])
        self.total_bytes = 0
        self.saved_bytes = 0
        self.pending = bytearray()
        self.fd = -1
        self.error = ''

    def push(self, data):
        self.total_bytes += len(data)
        if self.error:
            return
        if self.fd < 0:
            if self.total_bytes <= self.after_bytes:
                self.pending += data
                return
            data = bytes(self.pending) + data
            self.pending = bytearray()
            if not self.open():
                return
        self.write(data[: self.max_bytes - self.saved_bytes])

    def open(self):
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, exist_ok=True)
            prune_output_files(directory)
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
            return True
        except OSError as error:
            self.fail(error)
            return False

    def write(self, data):
        view = memoryview(data)
        try:
            while view:
                written = os.write(self.fd, view)
                self.saved_bytes += written
                view = view[written:]
        except OSError as error:
            self.fail(error)

    def fail(self, error):
        self.error = error.strerror or str(error)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def finish(self):
        if self.fd >= 0:
            saved = self.saved_bytes
            if self.total_bytes > saved:
                self.write(encode_text(OUTPUT_FILE_TRUNCATION_NOTE % (self.total_bytes - saved)))
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
                return ',"outputFileBytes":%d' % saved
        if self.error:
            return ',"outputFileError":%s' % quote(self.error)
        return ''
