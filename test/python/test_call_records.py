"""Tests of keel_call_records: the records that make a keyed call run at most once per container."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

import keel_call_records as records


class CallRecordsTest(unittest.TestCase):
    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.directory = directory.name
        self.frames = []
        for name, value in (
            ('CALLS_DIR', self.directory),
            ('reply', lambda request_id, kind, fields='': self.frames.append((request_id, kind, fields))),
        ):
            patcher = mock.patch.object(records, name, value)
            patcher.start()
            self.addCleanup(patcher.stop)
        records.active_call_keys.clear()
        records.call_waiters.clear()
        self.addCleanup(records.active_call_keys.clear)
        self.addCleanup(records.call_waiters.clear)

    def start(self, key, group=0):
        records.active_call_keys.add(key)
        records.mark_call_started(key, group)

    def test_a_new_key_runs_and_its_started_record_names_this_runner_and_then_the_group(self):
        self.assertTrue(records.recall_or_run('r1', 'command', 'toolu_new'))
        self.assertEqual(self.frames, [])
        self.start('toolu_new')
        self.assertEqual(records.read_call_record('toolu_new', 'started'), {'runner': os.getpid(), 'group': 0})
        records.mark_call_started('toolu_new', 4321)
        self.assertEqual(records.read_call_record('toolu_new', 'started'), {'runner': os.getpid(), 'group': 4321})
        self.assertEqual(sorted(os.listdir(self.directory)), ['toolu_new.started'])

    def test_a_key_that_this_runner_still_runs_is_waited_for_then_replayed_as_waited(self):
        self.start('toolu_busy')
        self.assertFalse(records.recall_or_run('r2', 'file', 'toolu_busy'))
        self.assertEqual(list(records.call_waiters), ['r2'])
        records.check_call_waiters()
        self.assertEqual(self.frames, [])
        records.record_file_result('toolu_busy', ',"status":0,"dataBase64":"aGk="')
        records.active_call_keys.discard('toolu_busy')
        records.check_call_waiters()
        self.assertEqual(self.frames, [('r2', 'result', ',"status":0,"dataBase64":"aGk=","recall":"waited"')])
        self.assertEqual(records.call_waiters, {})

    def test_a_waited_command_gets_a_started_frame_at_once(self):
        self.start('toolu_cmd')
        self.assertFalse(records.recall_or_run('r3', 'command', 'toolu_cmd'))
        self.assertEqual(self.frames, [('r3', 'started', ',"pid":0')])

    def test_a_started_key_whose_runner_is_gone_is_interrupted_not_run_again(self):
        records.write_call_record('toolu_lost', 'started', '{"runner":0,"group":0}')
        self.assertFalse(records.recall_or_run('r4', 'command', 'toolu_lost'))
        self.assertEqual(
            self.frames,
            [('r4', 'started', ',"pid":0'), ('r4', 'exit', ',"status":-1,"timedOut":false,"recall":"interrupted"')],
        )
        self.frames.clear()
        self.assertFalse(records.recall_or_run('r5', 'file', 'toolu_lost'))
        self.assertEqual(self.frames, [('r5', 'result', ',"status":-1,"dataBase64":"","recall":"interrupted"')])

    def test_a_key_this_runner_started_but_no_longer_runs_is_interrupted(self):
        records.mark_call_started('toolu_dropped', 0)
        self.assertEqual(records.recall('toolu_dropped')[0], 'interrupted')

    def test_a_started_record_of_a_process_that_is_not_a_runner_is_interrupted(self):
        # This test's own parent is not a keel runner: its command line lacks the marker.
        records.write_call_record('toolu_other', 'started', '{"runner":%d,"group":0}' % os.getppid())
        self.assertEqual(records.recall('toolu_other')[0], 'interrupted')

    def test_a_finished_command_replays_its_status_and_the_head_and_tail_of_its_output(self):
        self.start('toolu_done')
        captures = {'stdout': records.Capture(4), 'stderr': records.Capture(4)}
        captures['stdout'].push(b'0123')
        captures['stdout'].push(b'456789abcdef')
        captures['stderr'].push(b'oops')
        records.record_command_end('toolu_done', ',"status":2,"timedOut":false', captures)
        done = records.read_call_record('toolu_done', 'done')
        self.assertEqual(done['stdout'], {'head': 'MDEyMw==', 'tail': 'Y2RlZg==', 'total': 16})
        self.assertFalse(records.recall_or_run('r6', 'command', 'toolu_done'))
        self.assertEqual(
            self.frames,
            [
                ('r6', 'started', ',"pid":0'),
                (
                    'r6',
                    'recorded',
                    ',"stream":"stdout",' + '"headBase64":"MDEyMw==","tailBase64":"Y2RlZg==","totalBytes":16',
                ),
                ('r6', 'recorded', ',"stream":"stderr",' + '"headBase64":"b29wcw==","tailBase64":"","totalBytes":4'),
                ('r6', 'exit', ',"status":2,"timedOut":false,"recall":"replayed"'),
            ],
        )

    def test_recall_decision_covers_every_combination_of_records(self):
        self.assertEqual(records.recall_decision({}, None, False), 'replay')
        self.assertEqual(records.recall_decision({}, {}, True), 'replay')
        self.assertEqual(records.recall_decision(None, {}, True), 'wait')
        self.assertEqual(records.recall_decision(None, {}, False), 'interrupted')
        self.assertEqual(records.recall_decision(None, None, False), 'run')

    def test_a_key_with_unsafe_characters_is_refused(self):
        with self.assertRaises(ValueError):
            records.recall_or_run('r7', 'file', '../escape')
        self.assertEqual(os.listdir(self.directory), [])

    def test_an_unreadable_record_counts_as_absent(self):
        with open(os.path.join(self.directory, 'toolu_torn.done'), 'w') as handle:
            handle.write('{"exit":')
        self.assertIsNone(records.read_call_record('toolu_torn', 'done'))
        self.assertTrue(records.recall_or_run('r8', 'file', 'toolu_torn'))

    def test_only_the_newest_finished_records_are_kept_with_their_started_records(self):
        with mock.patch.object(records, 'MAX_CALL_RECORDS', 3):
            now = time.time()
            for index in range(4):
                key = 'toolu_%d' % index
                records.mark_call_started(key, 0)
                records.record_file_result(key, ',"status":0,"dataBase64":""')
                path = records.call_path(key, 'done')
                os.utime(path, (now - 100 + index, now - 100 + index))
            records.mark_call_started('toolu_running', 0)
            records.record_file_result('toolu_4', ',"status":0,"dataBase64":""')
        names = sorted(os.listdir(self.directory))
        self.assertEqual(
            names,
            [
                'toolu_2.done',
                'toolu_2.started',
                'toolu_3.done',
                'toolu_3.started',
                'toolu_4.done',
                'toolu_running.started',
            ],
        )

    def test_capture_keeps_the_first_and_last_limit_bytes_and_counts_them_all(self):
        capture = records.Capture(3)
        for piece in (b'ab', b'cdefgh', b'ij'):
            capture.push(piece)
        self.assertEqual(json.loads(capture.fields()), {'head': 'YWJj', 'tail': 'aGlq', 'total': 10})
        empty = records.Capture(0)
        empty.push(b'anything')
        self.assertEqual(json.loads(empty.fields()), {'head': '', 'tail': '', 'total': 8})

    def test_killing_a_waited_call_signals_the_recorded_process_group(self):
        sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)
        self.addCleanup(sleeper.wait)
        self.addCleanup(sleeper.kill)
        self.start('toolu_group', sleeper.pid)
        self.assertFalse(records.recall_or_run('r9', 'file', 'toolu_group'))
        self.assertFalse(records.kill_waited_call('unknown'))
        self.assertTrue(records.kill_waited_call('r9'))
        self.assertEqual(sleeper.wait(timeout=10), -signal.SIGTERM)


if __name__ == '__main__':
    unittest.main()
