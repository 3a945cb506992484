"""Tests of keel_shell with the real persistent-shell.bash: calls, their status and output, the saved state, and the
shell's end. They run bash on the host in a temporary folder (no leftover sweep runs here)."""

import _signal
import os
import select
import shutil
import tempfile
import time
import unittest

from keel_shell import PersistentShell, file_identity

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
SCRIPT_PATH = os.path.join(ROOT, 'activities', 'sandbox', 'tools', 'shell', 'persistent-shell.bash')
STATE_END = b'# keel shell state end\n'


class PersistentShellTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix='keel-shell-test-')
        self.state_file = os.path.join(self.folder, 'state.sh')
        with open(SCRIPT_PATH) as handle:
            self.argv = ['bash', '--noprofile', '--norc', '-c', handle.read(), 'bash', self.state_file]
        self.shells = []

    def tearDown(self):
        for shell in self.shells:
            shell.kill()
            shell.close()
            if shell.control_out >= 0:
                os.close(shell.control_out)
            if shell.pidfd >= 0:
                os.close(shell.pidfd)
            try:
                os.waitpid(shell.pid, 0)
            except ChildProcessError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def start_shell(self):
        shell = PersistentShell(self.argv, self.state_file, 'test')
        shell.input_path = os.path.join(self.folder, 'call.in')
        shell.output_path = os.path.join(self.folder, 'call.out')
        shell.status_path = os.path.join(self.folder, 'call.status')
        self.shells.append(shell)
        shell.start(dict(os.environ, HOME=self.folder))
        return shell

    def call(self, shell, command):
        """Runs one call as the runner does; returns (status, output), status None when the shell ended instead."""
        output_fd = shell.begin_call(command.encode())
        poller = select.poll()
        poller.register(shell.control_out, select.POLLIN)
        poller.register(shell.pidfd, select.POLLIN)
        poller.register(output_fd, select.POLLIN)
        output = bytearray()
        status = None
        deadline = time.monotonic() + 10
        ended = False
        while status is None and not ended:
            self.assertLess(time.monotonic(), deadline, 'the call did not end')
            for fd, _events in poller.poll(1000):
                if fd == output_fd:
                    output += self.read_available(output_fd)
                elif fd == shell.control_out:
                    status = shell.read_status()
                elif fd == shell.pidfd and status is None:
                    ended = True
        output += self.read_available(output_fd)
        os.close(output_fd)
        written = '%s.%d' % (self.state_file, shell.pid)
        if os.path.exists(written):
            os.replace(written, self.state_file)
            shell.call_saved_state()
        shell.end_call()
        return status, output.decode()

    @staticmethod
    def read_available(fd):
        data = bytearray()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return data
            if not chunk:
                return data
            data += chunk

    def test_calls_share_one_process_and_keep_variables_functions_and_the_directory(self):
        shell = self.start_shell()
        self.assertEqual(
            self.call(shell, 'cd %s && export KEPT=1 && LOCAL=2 && f() { echo fn; }' % self.folder), (0, '')
        )
        self.assertEqual(
            self.call(shell, 'pwd; echo $KEPT $LOCAL; f; echo $$'), (0, '%s\n1 2\nfn\n%d\n' % (self.folder, shell.pid))
        )
        self.assertEqual(
            self.call(shell, 'echo out; echo err >&2; exit_status() { return 3; }; exit_status'), (3, 'out\nerr\n')
        )

    def test_a_command_reads_eof_on_stdin_and_its_errors_name_bash(self):
        shell = self.start_shell()
        self.assertEqual(self.call(shell, 'read line; echo "[$?] [$line]"'), (0, '[1] []\n'))
        status, output = self.call(shell, 'no_such_command_here')
        self.assertEqual(status, 127)
        self.assertRegex(output, r'^bash: line \d+: no_such_command_here: command not found\n$')

    def test_the_state_is_saved_after_each_call_and_read_by_a_new_shell(self):
        shell = self.start_shell()
        self.call(shell, 'cd / && export CARRIED="a b"')
        with open(self.state_file, 'rb') as handle:
            saved = handle.read()
        self.assertTrue(saved.endswith(STATE_END))
        self.assertIn(b'CARRIED="a b"', saved)
        self.assertTrue(shell.serves(self.argv, self.state_file))
        fresh = self.start_shell()
        self.assertEqual(self.call(fresh, 'pwd; echo "$CARRIED"'), (0, '/\na b\n'))

    def test_a_state_file_written_by_another_shell_means_a_new_shell(self):
        shell = self.start_shell()
        self.call(shell, 'true')
        self.assertTrue(shell.serves(self.argv, self.state_file))
        with open(self.state_file + '.other', 'wb') as handle:
            handle.write(b'export FROM_ELSEWHERE=1\n' + STATE_END)
        os.replace(self.state_file + '.other', self.state_file)
        self.assertFalse(shell.serves(self.argv, self.state_file))
        self.assertFalse(shell.serves(self.argv + ['x'], self.state_file))
        os.unlink(self.state_file)
        self.assertIsNone(file_identity(self.state_file))
        self.assertFalse(shell.serves(self.argv, self.state_file))

    def test_break_and_continue_at_the_top_level_end_the_call_and_the_shell_serves_on(self):
        shell = self.start_shell()
        self.assertEqual(self.call(shell, 'echo a; break; echo b'), (0, 'a\n'))
        self.assertEqual(self.call(shell, 'echo c; continue; echo d'), (0, 'c\n'))
        self.assertEqual(self.call(shell, 'for i in 1 2 3; do [ $i = 2 ] && break; echo $i; done'), (0, '1\n'))
        self.assertEqual(self.call(shell, 'echo still'), (0, 'still\n'))
        # With a count past the call's own loops: reported by the loops that read the calls.
        self.assertEqual(self.call(shell, 'echo e; continue 2; echo f'), (0, 'e\n'))
        self.assertEqual(self.call(shell, 'for i in 1; do echo g; continue 9; done; echo h'), (0, 'g\n'))
        self.assertEqual(self.call(shell, 'echo i; break 2; echo j'), (0, 'i\n'))
        self.assertEqual(self.call(shell, 'f() { continue; }; f 2>/dev/null; echo after'), (0, 'after\n'))
        self.assertEqual(self.call(shell, 'echo $$'), (0, '%d\n' % shell.pid))
        # Out of every loop: the shell ends, and the call is answered by its end.
        self.assertEqual(self.call(shell, 'echo k; break 3'), (None, 'k\n'))

    def test_a_call_that_redefines_read_printf_or_the_loop_names_does_not_break_the_shell(self):
        shell = self.start_shell()
        status, _ = self.call(shell, 'read() { :; }; printf() { :; }; __keel_input=/nowhere; __keel_report() { :; }')
        self.assertEqual(status, 1)
        self.assertEqual(self.call(shell, 'echo "still here"'), (0, 'still here\n'))

    def test_options_a_call_sets_last_and_set_e_ends_the_shell_only_at_a_failure(self):
        shell = self.start_shell()
        self.assertEqual(self.call(shell, 'set -e; echo on'), (0, 'on\n'))
        self.assertEqual(self.call(shell, 'echo after; case $- in *e*) echo errexit;; esac'), (0, 'after\nerrexit\n'))
        self.assertEqual(self.call(shell, 'false; echo unreached'), (None, ''))

    def test_err_and_debug_traps_that_print_do_not_disturb_the_status(self):
        shell = self.start_shell()
        self.call(shell, "trap 'echo ERR at $LINENO' ERR")
        self.assertEqual(self.call(shell, 'echo fine'), (0, 'fine\n'))
        self.assertRegex(self.call(shell, 'false')[1], r'^ERR at \d+\n$')
        self.call(shell, "trap 'echo 7' DEBUG")
        status, output = self.call(shell, 'echo x')
        self.assertEqual(status, 0)
        self.assertIn('x\n', output)

    def test_a_job_the_last_call_left_is_not_reported_in_the_next_calls_output(self):
        shell = self.start_shell()
        status, output = self.call(shell, 'sleep 100 & echo $!')
        self.assertEqual(status, 0)
        os.kill(int(output), _signal.SIGKILL)
        time.sleep(0.1)
        self.assertEqual(self.call(shell, 'echo hi'), (0, 'hi\n'))
        self.assertEqual(self.call(shell, 'wait; echo waited'), (0, 'waited\n'))

    def test_unsetting_the_loops_variables_does_not_stop_the_next_call(self):
        shell = self.start_shell()
        self.call(shell, 'unset __keel_call __keel_command __keel_turn __keel_calling')
        self.assertEqual(self.call(shell, 'echo next'), (0, 'next\n'))

    def test_exit_ends_the_shell_and_its_exit_trap_saves_the_state(self):
        shell = self.start_shell()
        self.assertEqual(self.call(shell, 'cd / && export LAST=1 && exit 4'), (None, ''))
        _pid, wait_status = os.waitpid(shell.pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(wait_status), 4)
        with open(self.state_file, 'rb') as handle:
            self.assertIn(b'LAST="1"', handle.read())

    def test_an_idle_shell_exits_when_its_stdin_closes(self):
        shell = self.start_shell()
        self.call(shell, 'true')
        shell.close()
        _pid, wait_status = os.waitpid(shell.pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(wait_status), 0)
        self.assertFalse(os.path.exists(shell.input_path))


if __name__ == '__main__':
    unittest.main()
