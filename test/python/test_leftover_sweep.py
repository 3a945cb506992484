"""Tests of keel_leftover_sweep: which processes count as leftovers, and killing them (only this test's own)."""

import _signal
import os
import subprocess
import tempfile
import time
import unittest
from unittest import mock

import keel_leftover_sweep as sweep


class IsLeftoverTest(unittest.TestCase):
    # pid: (parent, session). 1 is the container's init; 10 a runner started by `docker exec` (parent 0).
    TABLE = {
        1: (0, 1),
        5: (1, 1),
        10: (0, 10),
        20: (10, 20),
        21: (20, 20),
        30: (10, 30),
        40: (1, 40),
        41: (40, 40),
        50: (1, 30),
        60: (0, 60),
    }

    def leftovers(self, finished_session, active_sessions):
        kept = set(active_sessions) | {1}
        return sorted(pid for pid in self.TABLE if sweep.is_leftover(pid, self.TABLE, finished_session, kept))

    def test_the_finished_commands_session_and_the_orphans_outside_active_sessions_are_leftovers(self):
        # 20 and 21: the finished command; 40 and 41: orphans of an earlier command, reparented to init.
        self.assertEqual(self.leftovers(20, [30]), [20, 21, 40, 41])

    def test_an_orphan_in_an_active_session_and_the_inits_own_session_are_kept(self):
        self.assertEqual(self.leftovers(0, [30, 40]), [])

    def test_an_orphan_of_an_active_command_becomes_a_leftover_once_the_command_is_no_longer_active(self):
        self.assertEqual(self.leftovers(0, []), [40, 41, 50])

    def test_the_spared_shell_is_kept_and_its_session_and_whatever_runs_under_it_are_not(self):
        # 20 as the persistent shell: 21 is in its session, 22 a `setsid` child of it with a session of its own.
        table = {**self.TABLE, 22: (20, 22)}
        kept = {30, 1}
        found = sorted(pid for pid in table if sweep.is_leftover(pid, table, 20, kept, spared=20))
        self.assertEqual(found, [21, 22, 40, 41])
        # Without `spared`, a child of a runner's process in a session of its own is not a leftover.
        self.assertFalse(sweep.is_leftover(22, table, 0, kept))

    def test_init_and_the_sweeping_process_itself_are_never_leftovers(self):
        table = {1: (0, 7), os.getpid(): (1, 7)}
        self.assertFalse(sweep.is_leftover(1, table, 7, {1}))
        self.assertFalse(sweep.is_leftover(os.getpid(), table, 7, {1}))


class WaitForGroupExitTest(unittest.TestCase):
    def group(self):
        # A shell and its background child, in a process group (and session) of their own.
        process = subprocess.Popen(['sh', '-c', 'sleep 30 & sleep 30'], start_new_session=True)
        self.addCleanup(process.wait)
        self.addCleanup(lambda: sweep.os.killpg(process.pid, _signal.SIGKILL) if self.alive(process.pid) else None)
        deadline = time.monotonic() + 5
        while self.members(process.pid) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertGreaterEqual(self.members(process.pid), 2)
        return process

    @staticmethod
    def members(group):
        return sum(1 for _, fields in sweep.live_processes() if int(fields[2]) == group)

    def alive(self, group):
        return self.members(group) > 0

    def test_a_killed_group_is_waited_for_until_none_of_it_is_live(self):
        process = self.group()
        os.killpg(process.pid, _signal.SIGKILL)
        self.assertTrue(sweep.wait_for_group_exit(process.pid, 5))
        self.assertEqual(self.members(process.pid), 0)

    def test_a_group_that_lives_on_is_given_up_on_after_the_time(self):
        process = self.group()
        started = time.monotonic()
        self.assertFalse(sweep.wait_for_group_exit(process.pid, 0.1))
        self.assertLess(time.monotonic() - started, 2)
        self.assertGreaterEqual(self.members(process.pid), 2)


class PidsLimitHitsTest(unittest.TestCase):
    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.v2 = os.path.join(directory.name, 'pids.events')
        self.v1 = os.path.join(directory.name, 'pids-v1.events')

    def hits(self):
        with mock.patch.object(sweep, 'PIDS_EVENTS_FILES', (self.v2, self.v1)):
            return sweep.pids_limit_hits()

    def test_reads_the_max_count_of_cgroup_v2_then_v1_and_minus_one_when_neither_is_readable(self):
        self.assertEqual(self.hits(), -1)
        with open(self.v1, 'wb') as handle:
            handle.write(b'max 4\n')
        self.assertEqual(self.hits(), 4)
        with open(self.v2, 'wb') as handle:
            handle.write(b'other 1\nmax 12\n')
        self.assertEqual(self.hits(), 12)


class StopLeftoversTest(unittest.TestCase):
    def test_kills_every_process_of_the_finished_session_children_included(self):
        # A shell in its own session with two background children. The sweep sees only this session's processes:
        # on a host every process descends from pid 1, so the real table would make them all orphans.
        shell = subprocess.Popen(['sh', '-c', 'sleep 60 & sleep 60 & wait'], start_new_session=True)
        self.addCleanup(shell.wait)
        self.addCleanup(shell.kill)
        session = shell.pid
        real_table = sweep.read_process_table

        def own_session():
            return {pid: entry for pid, entry in real_table().items() if entry[1] == session}

        deadline = time.monotonic() + 10
        while len(own_session()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(len(own_session()), 3)
        with mock.patch.object(sweep, 'read_process_table', own_session):
            self.assertEqual(sweep.stop_leftovers(session, []), 3)
        self.assertEqual(shell.wait(timeout=10), -9)
        self.assertEqual(own_session(), {})

    def test_the_process_table_lists_this_process_with_its_parent_and_session(self):
        self.assertEqual(sweep.read_process_table()[os.getpid()], (os.getppid(), os.getsid(0)))


if __name__ == '__main__':
    unittest.main()
