"""Tests of the file tools' `run(request)` (keel_read_tool, keel_write_tool, keel_edit_tool, keel_glob_tool) in a
temporary folder that stands in for the workspace.
"""

import os
import stat
import tempfile
import time
import unittest
from unittest import mock

import keel_edit_tool
import keel_glob_tool
import keel_prelude
import keel_read_tool
import keel_write_tool
from keel_prelude import MAX_FILE_BYTES, ToolError


class FileToolTest(unittest.TestCase):
    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.workdir = os.path.realpath(directory.name)
        for module in (keel_prelude, keel_glob_tool):
            patcher = mock.patch.object(module, 'WORKDIR', self.workdir)
            patcher.start()
            self.addCleanup(patcher.stop)

    def put(self, name, data, modified=None):
        path = os.path.join(self.workdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as handle:
            handle.write(data if isinstance(data, bytes) else data.encode())
        if modified is not None:
            os.utime(path, (modified, modified))
        return path

    def content(self, name):
        with open(os.path.join(self.workdir, name), 'rb') as handle:
            return handle.read()

    def tool_error(self, run, request):
        with self.assertRaises(ToolError) as raised:
            run(request)
        return str(raised.exception)


class ReadToolTest(FileToolTest):
    def read(self, name, view_range=''):
        return keel_read_tool.run({'file_path': name, 'view_range': view_range})

    def test_reads_a_whole_file_relative_to_the_workdir_or_by_absolute_path(self):
        path = self.put('notes/a.txt', 'one\ntwo\n')
        self.assertEqual(self.read('notes/a.txt'), b'one\ntwo\n')
        self.assertEqual(self.read(path), b'one\ntwo\n')

    def test_a_binary_file_is_returned_as_its_bytes(self):
        data = bytes(range(256)) + b'\xff\xfe\x00'
        self.put('image.bin', data)
        self.assertEqual(self.read('image.bin'), data)

    def test_view_range_selects_lines_one_based_inclusive_and_end_zero_means_the_last(self):
        self.put('lines.txt', 'l1\nl2\nl3\nl4\n')
        self.assertEqual(self.read('lines.txt', '2,3'), b'l2\nl3')
        self.assertEqual(self.read('lines.txt', '3,0'), b'l3\nl4\n')
        self.assertEqual(self.read('lines.txt', '0,1'), b'l1')

    def test_missing_files_and_folders_are_tool_errors_in_the_sdks_words(self):
        os.mkdir(os.path.join(self.workdir, 'folder'))
        self.assertEqual(
            self.tool_error(keel_read_tool.run, {'file_path': 'nope.txt', 'view_range': ''}),
            'read: nope.txt: no such file or directory',
        )
        self.assertEqual(
            self.tool_error(keel_read_tool.run, {'file_path': 'folder', 'view_range': ''}),
            'read: folder is not a regular file',
        )

    def test_a_file_over_the_limit_needs_a_view_range_which_is_streamed_and_capped(self):
        line = b'x' * 1023 + b'\n'
        self.put('big.txt', line * 300)
        message = self.tool_error(keel_read_tool.run, {'file_path': 'big.txt', 'view_range': ''})
        self.assertEqual(
            message,
            'read: big.txt is %d bytes, exceeds %d-byte limit. ' % (300 * 1024, MAX_FILE_BYTES)
            + 'Use the view_range parameter to read specific line ranges, e.g. view_range: [1, 500].',
        )
        self.assertEqual(self.read('big.txt', '299,300'), line + line[:-1])
        message = self.tool_error(keel_read_tool.run, {'file_path': 'big.txt', 'view_range': '1,0'})
        self.assertTrue(message.startswith('read: view_range [1, 0] of big.txt exceeds'), message)

    def test_a_single_line_over_the_limit_says_no_view_range_can_narrow_it(self):
        self.put('one-line.txt', b'y' * (MAX_FILE_BYTES + 10) + b'\nshort\n')
        message = self.tool_error(keel_read_tool.run, {'file_path': 'one-line.txt', 'view_range': '1,1'})
        self.assertTrue(message.startswith('read: line 1 of one-line.txt alone exceeds'), message)
        self.assertEqual(self.read('one-line.txt', '2,2'), b'short')


class WriteToolTest(FileToolTest):
    def test_creates_parent_folders_and_reports_the_bytes_written(self):
        result = keel_write_tool.run({'file_path': 'deep/er/new.txt', 'content': 'h\u00e9llo'})
        self.assertEqual(result, 'wrote 6 bytes to deep/er/new.txt')
        self.assertEqual(self.content('deep/er/new.txt'), 'h\u00e9llo'.encode())
        self.assertEqual([name for name in os.listdir(os.path.join(self.workdir, 'deep/er'))], ['new.txt'])

    def test_replacing_a_file_keeps_its_mode(self):
        path = self.put('script.sh', 'old')
        os.chmod(path, 0o751)
        keel_write_tool.run({'file_path': 'script.sh', 'content': 'new'})
        self.assertEqual(self.content('script.sh'), b'new')
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o751)

    def test_undecodable_bytes_passed_as_surrogate_escapes_are_written_back_as_bytes(self):
        keel_write_tool.run({'file_path': 'raw.bin', 'content': b'\xff\xfeok'.decode('utf-8', 'surrogateescape')})
        self.assertEqual(self.content('raw.bin'), b'\xff\xfeok')

    def test_writing_over_a_folder_is_a_tool_error(self):
        os.mkdir(os.path.join(self.workdir, 'folder'))
        message = self.tool_error(keel_write_tool.run, {'file_path': 'folder', 'content': 'x'})
        self.assertEqual(message, 'write: folder: is a directory')
        self.assertEqual(os.listdir(self.workdir), ['folder'])


class EditToolTest(FileToolTest):
    def edit(self, name, old, new, replace_all=''):
        return keel_edit_tool.run({'file_path': name, 'old_string': old, 'new_string': new, 'replace_all': replace_all})

    def test_replaces_a_unique_string(self):
        self.put('a.txt', 'alpha beta gamma')
        self.assertEqual(self.edit('a.txt', 'beta', 'BETA'), 'edited a.txt (1 replacement(s))')
        self.assertEqual(self.content('a.txt'), b'alpha BETA gamma')

    def test_a_string_that_is_not_unique_is_refused_and_the_file_is_left_alone(self):
        self.put('a.txt', 'x = 1\nx = 1\n')
        message = self.tool_error(
            keel_edit_tool.run, {'file_path': 'a.txt', 'old_string': 'x = 1', 'new_string': 'y', 'replace_all': ''}
        )
        self.assertEqual(message, 'edit: old_string appears 2 times in a.txt (must be unique)')
        self.assertEqual(self.content('a.txt'), b'x = 1\nx = 1\n')

    def test_replace_all_replaces_every_occurrence_and_counts_them(self):
        self.put('a.txt', 'x = 1\nx = 1\nx = 1\n')
        self.assertEqual(self.edit('a.txt', 'x = 1', 'y = 2', 'yes'), 'edited a.txt (3 replacement(s))')
        self.assertEqual(self.content('a.txt'), b'y = 2\ny = 2\ny = 2\n')

    def test_a_string_that_is_not_there_is_a_tool_error(self):
        self.put('a.txt', 'abc')
        message = self.tool_error(
            keel_edit_tool.run, {'file_path': 'a.txt', 'old_string': 'zzz', 'new_string': 'y', 'replace_all': ''}
        )
        self.assertEqual(message, 'edit: old_string not found in a.txt')

    def test_bytes_that_are_not_utf8_survive_an_edit(self):
        self.put('latin1.txt', b'caf\xe9 hello \xff')
        self.edit('latin1.txt', 'hello', 'bye')
        self.assertEqual(self.content('latin1.txt'), b'caf\xe9 bye \xff')

    def test_a_file_over_the_limit_is_refused(self):
        self.put('big.txt', b'z' * (MAX_FILE_BYTES + 1))
        message = self.tool_error(
            keel_edit_tool.run, {'file_path': 'big.txt', 'old_string': 'z', 'new_string': 'y', 'replace_all': 'yes'}
        )
        self.assertTrue(message.startswith('edit: big.txt is %d bytes, exceeds' % (MAX_FILE_BYTES + 1)), message)


class GlobToolTest(FileToolTest):
    def glob(self, pattern, path=''):
        return keel_glob_tool.run({'pattern': pattern, 'path': path})

    def relative(self, result):
        return [os.path.relpath(line, self.workdir) for line in result.split('\n')]

    def test_matches_are_absolute_paths_newest_first(self):
        now = time.time()
        self.put('old.py', '', now - 300)
        self.put('new.py', '', now - 100)
        self.put('middle.py', '', now - 200)
        self.put('other.txt', '', now)
        self.assertEqual(self.relative(self.glob('*.py')), ['new.py', 'middle.py', 'old.py'])
        self.assertTrue(self.glob('*.py').startswith(self.workdir + '/'))

    def test_double_star_crosses_folders_and_braces_give_alternatives(self):
        now = time.time()
        self.put('src/a.ts', '', now - 30)
        self.put('src/deep/b.ts', '', now - 20)
        self.put('src/deep/c.js', '', now - 10)
        self.put('top.ts', '', now)
        self.assertEqual(self.relative(self.glob('**/*.ts')), ['top.ts', 'src/deep/b.ts', 'src/a.ts'])
        self.assertEqual(self.relative(self.glob('src/**/*.{ts,js}')), ['src/deep/c.js', 'src/deep/b.ts', 'src/a.ts'])
        self.assertEqual(self.relative(self.glob('*.ts', 'src/deep')), ['src/deep/b.ts'])

    def test_character_classes_and_question_marks_match_one_character(self):
        for name in ('a1.txt', 'b2.txt', 'c3.txt', 'ab.txt'):
            self.put(name, '')
        self.assertEqual(sorted(self.relative(self.glob('[a-b]?.txt'))), ['a1.txt', 'ab.txt', 'b2.txt'])
        self.assertEqual(sorted(self.relative(self.glob('[!a]?.txt'))), ['b2.txt', 'c3.txt'])

    def test_git_and_node_modules_are_pruned_and_symbolic_links_are_not_listed(self):
        self.put('.git/config.py', '')
        self.put('node_modules/lib/index.py', '')
        self.put('real.py', '')
        os.symlink(os.path.join(self.workdir, 'real.py'), os.path.join(self.workdir, 'link.py'))
        self.assertEqual(self.relative(self.glob('**/*.py')), ['real.py'])

    def test_no_match_and_a_path_that_is_not_a_folder(self):
        self.put('file.txt', '')
        self.assertEqual(self.glob('*.rs'), 'no matches')
        self.assertEqual(
            self.tool_error(keel_glob_tool.run, {'pattern': '*', 'path': 'file.txt'}),
            ('glob: file.txt: not a directory'),
        )
        self.assertEqual(
            self.tool_error(keel_glob_tool.run, {'pattern': '*', 'path': 'missing'}),
            'glob: missing: no such file or directory',
        )

    def test_at_most_200_results_and_a_bounded_brace_expansion(self):
        now = time.time()
        for index in range(205):
            self.put('f%03d.txt' % index, '', now - 1000 + index)
        lines = self.relative(self.glob('*.txt'))
        self.assertEqual(len(lines), 200)
        self.assertEqual(lines[0], 'f204.txt')
        message = self.tool_error(keel_glob_tool.run, {'pattern': '{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}'})
        self.assertEqual(message, 'glob: the pattern expands to more than 256 alternatives')


if __name__ == '__main__':
    unittest.main()
