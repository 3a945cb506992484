"""The per-call file tool (the path without a persistent runner): runs the tool named by its one argument, say `read`
for `keel_read_tool.run`, on the request it reads from stdin as length-prefixed fields (`<bytes>:<text>`, key then
value); writes the result on stdout, or the error text with exit status `TOOL_ERROR_STATUS` for a tool error.
"""

import sys

from keel_constants import TOOL_ERROR_STATUS
from keel_prelude import ToolError, encode_text


def read_request():
    data = sys.stdin.buffer.read()
    fields = []
    position = 0
    while position < len(data):
        colon = data.index(b':', position)
        end = colon + 1 + int(data[position:colon])
        fields.append(data[colon + 1 : end].decode('utf-8', 'surrogateescape'))
        position = end
    return dict(zip(fields[0::2], fields[1::2]))


def main():
    # The command line carries only the tool's module, already loaded, so this import finds it in sys.modules.
    run = __import__('keel_%s_tool' % sys.argv[1]).run
    request = read_request()
    try:
        result = run(request)
    except ToolError as error:
        sys.stdout.buffer.write(encode_text(str(error)))
        sys.stdout.flush()
        sys.exit(TOOL_ERROR_STATUS)
    sys.stdout.buffer.write(result if isinstance(result, bytes) else encode_text(result))


if __name__ == '__main__':
    main()
