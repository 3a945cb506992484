"""The `glob` tool's `run(request)`, which mirrors the SDK's `glob` (Node's fs.glob).

`*`, `?`, `[...]` within a path segment, `**` across segments, `{a,b}` alternatives, matched by hand (importing `re` or
`fnmatch` costs about 70 ms in a fresh interpreter); regular files only (symlinks are neither followed nor listed);
`.git` and `node_modules` pruned; at most 50,000 entries walked; newest first; at most 200 results, as absolute paths.
"""

import errno
import os

from keel_prelude import WORKDIR, ToolError, fs_error, resolve

RESULT_LIMIT = 200
WALK_MAX_ENTRIES = 50000
EXPANSION_LIMIT = 256
SKIPPED_DIRECTORIES = ('.git', 'node_modules')


def expand_braces(pattern):
    opening = -1
    for index, character in enumerate(pattern):
        if character == '{':
            opening = index
        elif character == '}' and opening >= 0:
            options = pattern[opening + 1 : index].split(',')
            if len(options) > 1:
                expanded = []
                for option in options:
                    expanded.extend(expand_braces(pattern[:opening] + option + pattern[index + 1 :]))
                    if len(expanded) > EXPANSION_LIMIT:
                        raise ToolError('glob: the pattern expands to more than %d alternatives' % EXPANSION_LIMIT)
                return expanded
            opening = -1
    return [pattern]


def parse_class(segment, start):
    index = start + 1
    negate = index < len(segment) and segment[index] in '!^'
    if negate:
        index += 1
    ranges = []
    first = True
    while index < len(segment) and (first or segment[index] != ']'):
        first = False
        low = segment[index]
        if index + 2 < len(segment) and segment[index + 1] == '-' and segment[index + 2] != ']':
            ranges.append((low, segment[index + 2]))
            index += 3
        else:
            ranges.append((low, low))
            index += 1
    if index >= len(segment):
        return None, start + 1
    return ('class', negate, ranges), index + 1


def tokens_of(segment):
    tokens = []
    index = 0
    while index < len(segment):
        character = segment[index]
        if character == '*':
            if not tokens or tokens[-1] != ('star',):
                tokens.append(('star',))
            index += 1
        elif character == '?':
            tokens.append(('any',))
            index += 1
        elif character == '[':
            token, index = parse_class(segment, index)
            tokens.append(token or ('char', '['))
        elif character == '\\' and index + 1 < len(segment):
            tokens.append(('char', segment[index + 1]))
            index += 2
        else:
            tokens.append(('char', character))
            index += 1
    return tokens


def token_matches(token, character):
    if token[0] == 'any':
        return True
    if token[0] == 'char':
        return token[1] == character
    inside = any(low <= character <= high for low, high in token[2])
    return inside != token[1]


def segment_matches(tokens, name):
    token = position = 0
    star = -1
    mark = 0
    while position < len(name):
        if token < len(tokens) and tokens[token][0] == 'star':
            star = token
            mark = position
            token += 1
        elif token < len(tokens) and token_matches(tokens[token], name[position]):
            token += 1
            position += 1
        elif star >= 0:
            token = star + 1
            mark += 1
            position = mark
        else:
            return False
    while token < len(tokens) and tokens[token][0] == 'star':
        token += 1
    return token == len(tokens)


def segments_of(pattern):
    return [
        segment if segment == '**' else tokens_of(segment) for segment in pattern.split('/') if segment not in ('', '.')
    ]


def matches(parts, segments):
    memo = {}

    def match(part, segment):
        key = (part, segment)
        if key not in memo:
            if segment == len(segments):
                memo[key] = part == len(parts)
            elif segments[segment] == '**':
                memo[key] = match(part, segment + 1) or (part < len(parts) and match(part + 1, segment))
            else:
                memo[key] = (
                    part < len(parts)
                    and segment_matches(segments[segment], parts[part])
                    and match(part + 1, segment + 1)
                )
        return memo[key]

    return match(0, 0)


def run(request):
    patterns = [segments_of(pattern) for pattern in expand_braces(request['pattern'])]
    unbounded = any('**' in segments for segments in patterns)
    max_depth = max(len(segments) for segments in patterns)
    root = resolve(request['path']) if request['path'] else WORKDIR
    if not os.path.isdir(root):
        try:
            os.stat(root)
        except OSError as error:
            raise ToolError('glob: ' + fs_error(error, request['path'])) from error
        raise ToolError('glob: ' + fs_error(OSError(errno.ENOTDIR, 'not a directory'), request['path']))
    found = []
    remaining = WALK_MAX_ENTRIES
    pending = [(root, ())]
    while pending and remaining > 0:
        directory, prefix = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            remaining -= 1
            if remaining <= 0:
                break
            parts = prefix + (entry.name,)
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIPPED_DIRECTORIES and (unbounded or len(parts) < max_depth):
                        pending.append((entry.path, parts))
                elif entry.is_file(follow_symlinks=False):
                    if any(matches(parts, segments) for segments in patterns):
                        found.append((entry.stat(follow_symlinks=False).st_mtime, entry.path))
            except OSError:
                continue
    if not found:
        return 'no matches'
    found.sort(key=lambda item: item[0], reverse=True)
    return '\n'.join(path for _, path in found[:RESULT_LIMIT])
