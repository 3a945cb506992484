"""The runner's `PersistentShell`: one bash process that runs the bash tool's calls one after another, so that a call
costs no new process (see tools/shell/persistent-shell.bash, which the request's `shell` argv runs).

The shell is started in its own session (a timeout or a kill ends it with its group, and the next call gets a new
one). For each call the runner writes the command to the shell's input file, makes a new FIFO for its output (the
previous call's leftovers cannot write into it) and opens its reading end, and writes one line to the shell's stdin;
the shell answers with the call's exit status, one line on its status FIFO, once the command is done. The runner holds
the status FIFO open for reading and writing, so it never reads an end there: the shell's end is seen on its pidfd.
The shell is reused only while the shell-state file is the one it wrote itself: a per-call run (two calls at once, a
`restart`) that wrote the file since means a new shell, which reads it at start.
"""

import _signal
import os

from keel_constants import RUN_DIR

DEFAULT_SIGNALS = (_signal.SIGPIPE, _signal.SIGXFSZ)


def spawn_in_session(argv, environment, file_actions):
    """Starts argv in a session (and process group) of its own, with the signals Python ignores back at their defaults;
    returns its pid. The runner starts its commands and the persistent shell this way."""
    return os.posix_spawnp(
        argv[0], argv, environment, setsid=True, setsigdef=DEFAULT_SIGNALS, file_actions=file_actions
    )


class NoPidfd(OSError):
    """No pidfd for the shell (a kernel before 5.3, or a seccomp profile that refuses `pidfd_open`): the runner then
    runs every call on its own, rather than start a shell per call that it cannot use."""


def remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def file_identity(path):
    """What tells one version of a file from the next (a rename puts a new inode in place); None when it is absent."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_ino, status.st_mtime_ns, status.st_size)


class PersistentShell:
    def __init__(self, argv, state_file, name):
        self.argv = list(argv)
        self.state_file = state_file
        self.input_path = '%s/shell-%s.in' % (RUN_DIR, name)
        self.output_path = '%s/shell-%s.out' % (RUN_DIR, name)
        self.status_path = '%s/shell-%s.status' % (RUN_DIR, name)
        self.pid = 0
        self.pidfd = -1
        self.control_in = -1
        self.control_out = -1
        self.state_identity = None
        self.status_line = bytearray()
        # The command it runs now, if any (the runner's own object).
        self.busy = None

    def start(self, environment):
        """Starts the shell; raises OSError when it cannot, `NoPidfd` when it never will (its end must be seen without
        polling)."""
        self.state_identity = file_identity(self.state_file)
        for path in (self.input_path, self.output_path, self.status_path):
            remove(path)
        opened = []
        try:
            os.mkfifo(self.status_path, 0o600)
            status = os.open(self.status_path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
            opened.append(status)
            stdin_read, stdin_write = os.pipe()
            opened += [stdin_read, stdin_write]
            null = os.open('/dev/null', os.O_RDWR)
            opened.append(null)
            file_actions = [
                (os.POSIX_SPAWN_DUP2, stdin_read, 0),
                (os.POSIX_SPAWN_DUP2, null, 1),
                (os.POSIX_SPAWN_DUP2, null, 2),
            ]
            argv = self.argv + [self.input_path, self.output_path, self.status_path]
            self.pid = spawn_in_session(argv, environment, file_actions)
        except OSError:
            for fd in opened:
                os.close(fd)
            remove(self.status_path)
            raise
        for fd in (stdin_read, null):
            os.close(fd)
        self.control_in, self.control_out = stdin_write, status
        try:
            self.pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError) as error:
            self.kill()
            os.waitpid(self.pid, 0)
            self.close()
            os.close(self.control_out)
            raise NoPidfd('no pidfd for the persistent shell: %s' % error) from None

    def serves(self, argv, state_file):
        """Whether the next call with this argv and state file may run here."""
        return (
            self.busy is None
            and self.argv == list(argv)
            and self.state_file == state_file
            and file_identity(state_file) == self.state_identity
        )

    def begin_call(self, command_text):
        """Hands the shell its next call; returns the reading end of the call's output FIFO (non-blocking)."""
        with open(self.input_path, 'wb') as handle:
            handle.write(command_text)
        remove(self.output_path)
        os.mkfifo(self.output_path, 0o600)
        output = os.open(self.output_path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            os.write(self.control_in, b'run\n')
        except OSError:
            os.close(output)
            raise
        self.status_line.clear()
        return output

    def read_status(self):
        """Reads what the shell wrote on its status FIFO: the call's exit status once its line is whole, else None."""
        try:
            data = os.read(self.control_out, 64)
        except (BlockingIOError, InterruptedError):
            return None
        self.status_line.extend(data)
        if not self.status_line.endswith(b'\n'):
            return None
        line, self.status_line[:] = bytes(self.status_line), b''
        try:
            return int(line)
        except ValueError:
            return None

    def end_call(self):
        """Removes the call's files (its reader keeps the FIFO open): no command text is left behind."""
        remove(self.input_path)
        remove(self.output_path)

    def call_saved_state(self):
        """Notes that the runner moved this shell's saved state into place: the file is its own again."""
        self.state_identity = file_identity(self.state_file)

    def kill(self):
        if self.pid:
            try:
                os.killpg(self.pid, _signal.SIGKILL)
            except OSError:
                pass

    def close(self):
        """Closes the shell's stdin (an idle shell then exits) and removes its files. The runner closes the pidfd and
        the status FIFO, which it watches, and reaps the process."""
        if self.control_in >= 0:
            os.close(self.control_in)
            self.control_in = -1
        self.end_call()
        remove(self.status_path)
