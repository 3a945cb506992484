"""Tests of keel_output_file: saving a command's stdout past the cap into a file, up to a limit, oldest files pruned."""

import os
import tempfile
import time
import unittest
from unittest import mock

import keel_output_file
from keel_constants import OUTPUT_FILE_TRUNCATION_NOTE
from keel_output_file import OutputFile


class OutputFileTest(unittest.TestCase):
    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        # The real path: pruning is skipped for a folder reached through a symbolic link.
        self.root = os.path.realpath(directory.name)
        self.folder = os.path.join(self.root, 'tool-output')
        self.path = os.path.join(self.folder, 'toolu_1.txt')

    def output_file(self, after_bytes=10, max_bytes=20, path=None):
        return OutputFile({'path': path or self.path, 'afterBytes': after_bytes, 'maxBytes': max_bytes})

    def content(self, path=None):
        with open(path or self.path, 'rb') as handle:
            return handle.read()

    def test_output_within_after_bytes_is_not_saved(self):
        output = self.output_file()
        output.push(b'12345')
        output.push(b'67890')
        self.assertEqual(output.finish(), '')
        self.assertFalse(os.path.exists(self.folder))

    def test_output_past_after_bytes_is_saved_whole_from_its_first_byte(self):
        output = self.output_file()
        output.push(b'0123456789')
        output.push(b'abcdef')
        self.assertEqual(output.finish(), ',"outputFileBytes":16')
        self.assertEqual(self.content(), b'0123456789abcdef')

    def test_output_past_max_bytes_keeps_the_head_and_ends_with_the_truncation_note(self):
        output = self.output_file()
        output.push(b'a' * 15)
        output.push(b'b' * 15)
        output.push(b'c' * 5)
        self.assertEqual(output.finish(), ',"outputFileBytes":20')
        note = (OUTPUT_FILE_TRUNCATION_NOTE % 15).encode()
        self.assertEqual(self.content(), b'a' * 15 + b'b' * 5 + note)

    def test_a_file_already_at_the_path_is_replaced_and_a_symbolic_link_is_not_followed(self):
        os.makedirs(self.folder)
        victim = os.path.join(self.root, 'victim.txt')
        with open(victim, 'wb') as handle:
            handle.write(b'keep me')
        os.symlink(victim, self.path)
        output = self.output_file(after_bytes=0)
        output.push(b'new output')
        self.assertEqual(output.finish(), ',"outputFileBytes":10')
        self.assertFalse(os.path.islink(self.path))
        self.assertEqual(self.content(), b'new output')
        self.assertEqual(self.content(victim), b'keep me')

    def test_saving_removes_the_oldest_files_beyond_the_limit(self):
        os.makedirs(self.folder)
        now = time.time()
        for index in range(5):
            path = os.path.join(self.folder, 'old-%d.txt' % index)
            with open(path, 'wb') as handle:
                handle.write(b'x')
            os.utime(path, (now - 100 + index, now - 100 + index))
        with mock.patch.object(keel_output_file, 'MAX_OUTPUT_FILES', 3):
            output = self.output_file(after_bytes=0)
            output.push(b'y')
            output.finish()
        self.assertEqual(sorted(os.listdir(self.folder)), ['old-3.txt', 'old-4.txt', 'toolu_1.txt'])

    def test_a_folder_reached_through_a_symbolic_link_is_not_pruned(self):
        real = os.path.join(self.root, 'models-own-files')
        os.makedirs(real)
        for index in range(4):
            with open(os.path.join(real, 'file-%d' % index), 'wb') as handle:
                handle.write(b'x')
        os.symlink(real, self.folder)
        with mock.patch.object(keel_output_file, 'MAX_OUTPUT_FILES', 2):
            output = self.output_file(after_bytes=0)
            output.push(b'y')
            self.assertEqual(output.finish(), ',"outputFileBytes":1')
        self.assertEqual(len(os.listdir(real)), 5)

    def test_a_failure_to_create_the_file_is_reported_and_leaves_nothing(self):
        with open(os.path.join(self.root, 'blocker'), 'wb') as handle:
            handle.write(b'a file where a folder should be')
        path = os.path.join(self.root, 'blocker', 'sub', 'out.txt')
        output = self.output_file(after_bytes=0, path=path)
        output.push(b'data')
        output.push(b'more')
        self.assertEqual(output.finish(), ',"outputFileError":"Not a directory"')

    def test_a_failed_write_on_a_full_volume_removes_the_partial_file(self):
        output = self.output_file(after_bytes=0)
        output.push(b'first')
        self.assertTrue(os.path.exists(self.path))
        # The saved file's descriptor now writes to /dev/full, as a full volume would answer.
        full = os.open('/dev/full', os.O_WRONLY)
        os.dup2(full, output.fd)
        os.close(full)
        output.push(b'second')
        self.assertEqual(output.fd, -1)
        self.assertFalse(os.path.exists(self.path))
        output.push(b'third')
        self.assertEqual(output.finish(), ',"outputFileError":"No space left on device"')


if __name__ == '__main__':
    unittest.main()
