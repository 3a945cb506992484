"""The runner's side of its protocol: newline-delimited JSON frames written to stdout, and the JSON helpers it parses
requests and records with.

It uses only the `_json` C scanner and encoder and `binascii`: the image has no `.pyc` files, so importing `json` would
cost about 100 ms at every start.
"""

import _json
import _thread
import binascii
import os

# The characters of a request id or a call key, which the runner puts in file names.
SAFE_ID_CHARACTERS = frozenset('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-')


class JsonOptions:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float


scan_json = _json.make_scanner(JsonOptions())
quote = _json.encode_basestring_ascii

output_lock = _thread.allocate_lock()
# False once stdout is gone (the worker closed its end): nothing more is written.
output_open = True


def send(line):
    global output_open
    data = memoryview((line + '\n').encode('ascii'))
    with output_lock:
        try:
            while output_open and data:
                data = data[os.write(1, data) :]
        except OSError:
            output_open = False


def reply(request_id, kind, fields=''):
    send('{"id":%s,"type":"%s"%s}' % (quote(request_id), kind, fields))


def base64_of(data):
    return binascii.b2a_base64(data, newline=False).decode('ascii')
