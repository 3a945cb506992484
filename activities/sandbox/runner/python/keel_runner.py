"""The persistent runner's event loop, the main module of the runner's program (see `runnerArgv`).

It reads newline-delimited JSON requests on stdin and writes newline-delimited JSON frames on stdout:

- `{id, kind: 'command', argv, stdinBase64?, timeoutMs, stateFile?, outputFile?}` spawns argv in its own session
  (process group), records the group id in `RUN_DIR/<id>.pgid` for a kill from a second exec, and answers `started`,
  `output` frames (`stream`, `dataBase64`) and one `exit` (`status`, `timedOut`, and `outputFileBytes` or
  `outputFileError` when `outputFile` saved the stdout, see keel_output_file) once the command's main process exits;
  background processes that keep its pipes open do not hold the exit back. Whatever the command leaves running is then
  killed (see keel_leftover_sweep) and counted in the exit frame's `leftovers`, and its `pidsLimitHit` says whether
  the container's pids limit refused a process while the command ran; a start that the full pids limit refuses first
  kills the orphans of earlier commands and tries once more. Past `timeoutMs` the group gets TERM (and CONT), and KILL
  after `KILL_AFTER_SECONDS`; the status is then 124, or 137 when KILL was needed, as GNU `timeout` reports it.
  With `shell` (the bash tool's persistent shell's argv) the command read from stdin runs instead in that one shell,
  which the runner starts once and keeps (see keel_shell), when it is free; its process group is the shell's, its
  output one stream (`stdout`), and its end the shell's answer, or the shell's own end (`exit`, a kill, a timeout).
- `{id, kind: 'kill'}` does the same to a running command at once, and answers `killing` (`found`).
- `{id, kind: 'file', op, fields}` runs a file tool's `run(fields)` in a thread and answers one `result` (`status` 0,
  3 for a tool error or 1 for an internal error, and `dataBase64`).
- A `command` or `file` request with a `key` (the model's tool-use id) is recorded under it and runs at most once per
  container: a second request with the key is answered from the record (`recorded` output frames, then `exit` or
  `result` with `recall`), see keel_call_records.

It imports only built-in C modules: the image has no `.pyc` files, so `json` or `subprocess` would cost about 100 ms
at every start. When its stdin closes (the worker is gone) it takes no new work, lets its commands finish under their
timeouts, and exits; on TERM it kills its commands' groups first.

Never run it outside a sandbox container: after each command it kills every orphan process it can see.
"""

import _signal
import _thread
import binascii
import os
import select
import sys
import time

import keel_edit_tool
import keel_frames
import keel_glob_tool
import keel_read_tool
import keel_write_tool
from keel_call_records import (
    Capture,
    active_call_keys,
    call_waiters,
    check_call_waiters,
    forget_call,
    kill_waited_call,
    mark_call_started,
    recall_or_run,
    record_command_end,
    record_file_result,
)
from keel_constants import CALLS_DIR, KILL_AFTER_SECONDS, RUN_DIR, STATE_END_LINE, STATE_VARIABLE, TOOL_ERROR_STATUS
from keel_frames import SAFE_ID_CHARACTERS, base64_of, quote, reply, scan_json, send
from keel_leftover_sweep import pids_limit_hits, stop_leftovers, wait_for_group_exit
from keel_output_file import OutputFile
from keel_prelude import ToolError, encode_text
from keel_shell import NoPidfd, PersistentShell, spawn_in_session

# A user's image (KEEL_SANDBOX_IMAGE) may have an older python3 than the one the lint targets.
if sys.version_info < (3, 9):  # noqa: UP036
    sys.exit('keel-runner: needs Python 3.9 or later')

READ_BYTES = 65536
DRAIN_LIMIT_BYTES = 1 << 20
EXIT_POLL_SECONDS = 0.01
# How long a killed command's processes get to be gone before the leftover sweep (they are, within milliseconds).
GROUP_EXIT_SECONDS = 1.0
CALL_WAIT_POLL_SECONDS = 0.1
STATE_END = (STATE_END_LINE + '\n').encode()

FILE_TOOLS = {
    'read': keel_read_tool.run,
    'write': keel_write_tool.run,
    'edit': keel_edit_tool.run,
    'glob': keel_glob_tool.run,
}

input_open = True
pending_input = bytearray()
input_scanned = 0
file_operations_lock = _thread.allocate_lock()
file_operations_running = 0
wake_read, wake_write = os.pipe()
poller = select.poll()
handlers = {}
commands = {}
# The bash tool's persistent shell (see keel_shell), started by the first request that names one.
shell = None
shells_started = 0
shells_unavailable = False
# The container's count of processes its pids limit refused, as of the last call's end (see `start_in_shell`).
pids_limit_hits_seen = pids_limit_hits()


def watch(fd, events, handler):
    handlers[fd] = handler
    poller.register(fd, events)


def forget(fd):
    if handlers.pop(fd, None) is not None:
        poller.unregister(fd)
    os.close(fd)


class Command:
    def __init__(self, request_id, request):
        self.id = request_id
        self.pid = 0
        self.pidfd = -1
        self.pipes = {}
        self.active = True
        self.deadline = time.monotonic() + request['timeoutMs'] / 1000
        self.kill_at = 0
        self.terminating = False
        self.timed_out = False
        self.escalated = False
        self.state_file = request.get('stateFile') or ''
        # Set when the command runs in the persistent shell rather than in a process of its own.
        self.shell = None
        self.group_file = ''
        self.pids_limit_hits = pids_limit_hits()
        output_file = request.get('outputFile')
        self.output_file = OutputFile(output_file) if output_file else None
        self.key = request.get('key') or ''
        self.captures = (
            {
                'stdout': Capture(request.get('keepBytes') or 0),
                'stderr': Capture(request.get('keepErrorBytes') or 0),
            }
            if self.key
            else None
        )


def start_command(request_id, request):
    if request_id in commands or request_id in call_waiters:
        raise ValueError('duplicate id')
    if not request_id or not set(request_id) <= SAFE_ID_CHARACTERS:
        raise ValueError('bad id')
    key = request.get('key') or ''
    if key and not recall_or_run(request_id, 'command', key):
        return
    command = Command(request_id, request)
    if key:
        active_call_keys.add(key)
        mark_call_started(key, 0)
    argv = request['argv']
    stdin_data = binascii.a2b_base64(request.get('stdinBase64') or '')
    if request.get('shell') and start_in_shell(command, request['shell'], stdin_data):
        return
    environment = os.environ
    if command.state_file:
        environment = dict(os.environ)
        environment[STATE_VARIABLE] = '1'
    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe()
    stderr_read, stderr_write = os.pipe()
    file_actions = [
        (os.POSIX_SPAWN_DUP2, stdin_read, 0),
        (os.POSIX_SPAWN_DUP2, stdout_write, 1),
        (os.POSIX_SPAWN_DUP2, stderr_write, 2),
    ]
    try:
        try:
            command.pid = spawn_in_session(argv, environment, file_actions)
        except BlockingIOError:
            # The pids limit is full: stop the orphans an earlier command left, then try once more.
            stop_leftovers(0, [other.pid for other in commands.values()])
            command.pid = spawn_in_session(argv, environment, file_actions)
    except OSError as error:
        for fd in (stdin_write, stdout_read, stderr_read):
            os.close(fd)
        if key:
            # Nothing ran, so a retry may run it.
            active_call_keys.discard(key)
            forget_call(key)
        reply(request_id, 'started', ',"pid":0')
        message = encode_text('keel-runner: failed to run %s: %s\n' % (argv[0], error.strerror))
        reply(request_id, 'output', ',"stream":"stderr","dataBase64":"%s"' % base64_of(message))
        reply(request_id, 'exit', ',"status":127,"timedOut":false')
        return
    finally:
        for fd in (stdin_read, stdout_write, stderr_write):
            os.close(fd)
    announce_start(command)
    for fd, stream in ((stdout_read, 'stdout'), (stderr_read, 'stderr')):
        os.set_blocking(fd, False)
        command.pipes[fd] = stream
        watch(fd, select.POLLIN, lambda events, fd=fd: read_output(command, fd))
    try:
        command.pidfd = os.pidfd_open(command.pid)
        watch(command.pidfd, select.POLLIN, lambda events: reap(command))
    except (AttributeError, OSError):
        command.pidfd = -1
    feed_stdin(stdin_write, stdin_data)


def start_in_shell(command, argv, command_text):
    """Runs the command in the persistent shell when that shell is free (starting one if needed); False when it cannot,
    and the command then runs on its own (two calls at once, or a shell that cannot start)."""
    global shell, shells_started, shells_unavailable, pids_limit_hits_seen
    if shells_unavailable or (shell is not None and shell.busy is not None):
        return False
    if command.pids_limit_hits > pids_limit_hits_seen:
        # The pids limit refused a process since the last call: this one runs on its own, so that if the limit is
        # still full it fails at once (and the sandbox is checked) instead of in bash's fork retries (15 s).
        pids_limit_hits_seen = command.pids_limit_hits
        return False
    if shell is not None and not shell.serves(argv, command.state_file):
        retire_shell()
    if shell is None:
        shells_started += 1
        candidate = PersistentShell(argv, command.state_file, '%d-%d' % (os.getpid(), shells_started))
        try:
            candidate.start(os.environ)
        except NoPidfd:
            shells_unavailable = True
            return False
        except OSError:
            return False
        shell = candidate
        watch(candidate.pidfd, select.POLLIN, lambda events: shell_ended(candidate))
        watch(candidate.control_out, select.POLLIN, lambda events: shell_reported(candidate))
    try:
        output = shell.begin_call(command_text)
    except OSError:
        retire_shell()
        return False
    command.pid = shell.pid
    command.shell = shell
    shell.busy = command
    announce_start(command)
    command.pipes[output] = 'stdout'
    watch(output, select.POLLIN, lambda events: read_output(command, output))
    return True


def announce_start(command):
    """Records a command that started (its group for a kill from a second exec, its call record) and says so."""
    commands[command.id] = command
    record_group(command)
    if command.key:
        mark_call_started(command.key, command.pid)
    reply(command.id, 'started', ',"pid":%d' % command.pid)


def shell_reported(owner):
    status = owner.read_status()
    command = owner.busy
    # A command being killed ends with its shell: its status comes from the shell's end (see `shell_ended`).
    if status is None or command is None or command.terminating:
        return
    owner.busy = None
    others = [other.pid for other in commands.values() if other is not command]
    finish(command, status, stop_leftovers(command.pid, others, spared=owner.pid))


def shell_ended(owner):
    """The shell's process ended: a call's `exit`, a kill, a timeout, or its stdin closed."""
    global shell
    if shell is owner:
        shell = None
    forget(owner.pidfd)
    owner.pidfd = -1
    if owner.control_out >= 0:
        forget(owner.control_out)
        owner.control_out = -1
    owner.close()
    command, owner.busy = owner.busy, None
    if command is not None:
        reap(command)
        return
    try:
        os.waitpid(owner.pid, 0)
    except ChildProcessError:
        pass


def retire_shell():
    """Ends the idle persistent shell, so the next call starts a new one; its end is reaped by `shell_ended`."""
    global shell
    retired, shell = shell, None
    retired.kill()
    retired.close()


def record_group(command):
    path = '%s/%s.pgid' % (RUN_DIR, command.id)
    try:
        with open(path, 'w') as handle:
            handle.write('%d\n' % command.pid)
        command.group_file = path
    except OSError:
        pass


def feed_stdin(fd, data):
    os.set_blocking(fd, False)
    pending = [memoryview(data)]

    def write(events):
        try:
            written = os.write(fd, pending[0]) if pending[0] else 0
        except BlockingIOError:
            return
        except OSError:
            written = len(pending[0])
        pending[0] = pending[0][written:]
        if not pending[0]:
            forget(fd)

    write(0)
    if pending[0]:
        watch(fd, select.POLLOUT, write)


def read_output(command, fd):
    try:
        data = os.read(fd, READ_BYTES)
    except BlockingIOError:
        return 0
    except OSError:
        data = b''
    if not data:
        command.pipes.pop(fd, None)
        forget(fd)
        return 0
    if command.active:
        stream = command.pipes[fd]
        reply(command.id, 'output', ',"stream":"%s","dataBase64":"%s"' % (stream, base64_of(data)))
        if command.captures is not None:
            command.captures[stream].push(data)
        if stream == 'stdout' and command.output_file is not None:
            command.output_file.push(data)
    return len(data)


def signal_group(command, number):
    try:
        os.killpg(command.pid, number)
    except OSError:
        pass


def terminate(command, timed_out):
    if command.terminating:
        return
    command.terminating = True
    command.timed_out = timed_out
    signal_group(command, _signal.SIGTERM)
    signal_group(command, _signal.SIGCONT)
    command.kill_at = time.monotonic() + KILL_AFTER_SECONDS


def reap(command):
    try:
        pid, wait_status = os.waitpid(command.pid, os.WNOHANG)
    except ChildProcessError:
        pid, wait_status = command.pid, 255 << 8
    if pid == 0:
        return
    if command.pidfd >= 0:
        forget(command.pidfd)
        command.pidfd = -1
    status = os.waitstatus_to_exitcode(wait_status)
    if status < 0:
        status = 128 - status
    if command.timed_out:
        status = 137 if command.escalated else 124
    if command.terminating or status == 128 + _signal.SIGKILL:
        signal_group(command, _signal.SIGKILL)
        # Killed with the command, so not left running by it: the sweep waits until they are gone.
        wait_for_group_exit(command.pid, GROUP_EXIT_SECONDS)
    finish(
        command, status, stop_leftovers(command.pid, [other.pid for other in commands.values() if other is not command])
    )


def finish(command, status, leftovers):
    """Answers a command whose main process (or, in the persistent shell, whose call) ended with `status`, after the
    `leftovers` it left running were killed."""
    global pids_limit_hits_seen
    for fd in list(command.pipes):
        budget = DRAIN_LIMIT_BYTES
        while budget > 0:
            count = read_output(command, fd)
            if count == 0:
                break
            budget -= count
    save_shell_state(command)
    if command.group_file:
        try:
            os.unlink(command.group_file)
        except OSError:
            pass
    command.active = False
    del commands[command.id]
    output_file_fields = command.output_file.finish() if command.output_file is not None else ''
    timed_out = 'true' if command.timed_out else 'false'
    hits = pids_limit_hits()
    limit_hit = 'true' if hits > command.pids_limit_hits >= 0 else 'false'
    pids_limit_hits_seen = max(pids_limit_hits_seen, hits)
    fields = ',"status":%d,"timedOut":%s,"leftovers":%d,"pidsLimitHit":%s%s' % (
        status,
        timed_out,
        leftovers,
        limit_hit,
        output_file_fields,
    )
    if command.key:
        # Recorded before the answer: a worker that dies after reading it finds the record on its retry.
        record_command_end(command.key, fields, command.captures)
        active_call_keys.discard(command.key)
    reply(command.id, 'exit', fields)


def save_shell_state(command):
    if not command.state_file:
        return
    written = '%s.%d' % (command.state_file, command.pid)
    moved = False
    try:
        with open(written, 'rb') as handle:
            complete = handle.read().endswith(STATE_END)
        if complete:
            os.replace(written, command.state_file)
            moved = True
        else:
            os.unlink(written)
    except OSError:
        pass
    if command.shell is not None:
        command.shell.end_call()
        if moved:
            command.shell.call_saved_state()


def kill_command(request_id):
    command = commands.get(request_id)
    if command is not None:
        terminate(command, False)
    found = command is not None or kill_waited_call(request_id)
    reply(request_id, 'killing', ',"found":%s' % ('true' if found else 'false'))


def start_file_operation(request_id, request):
    global file_operations_running
    key = request.get('key') or ''
    if key:
        if not recall_or_run(request_id, 'file', key):
            return
        active_call_keys.add(key)
        mark_call_started(key, 0)
    arguments = (request_id, request['op'], request['fields'], key)
    with file_operations_lock:
        file_operations_running += 1
    _thread.start_new_thread(run_file_operation, arguments)


def run_file_operation(request_id, operation, fields, key):
    global file_operations_running
    try:
        try:
            result = FILE_TOOLS[operation](fields)
            status, data = 0, result if isinstance(result, bytes) else encode_text(result)
        except ToolError as error:
            status, data = TOOL_ERROR_STATUS, encode_text(str(error))
        except Exception:
            import traceback

            status, data = 1, encode_text(traceback.format_exc())
        fields = ',"status":%d,"dataBase64":"%s"' % (status, base64_of(data))
        if key:
            record_file_result(key, fields)
            active_call_keys.discard(key)
        reply(request_id, 'result', fields)
    finally:
        with file_operations_lock:
            file_operations_running -= 1
        os.write(wake_write, b'.')


def handle_request(line):
    request_id = ''
    try:
        request = scan_json(line.decode('utf-8'), 0)[0]
        request_id = str(request['id'])
        kind = request['kind']
        if kind == 'command':
            start_command(request_id, request)
        elif kind == 'file':
            start_file_operation(request_id, request)
        elif kind == 'kill':
            kill_command(request_id)
        else:
            raise ValueError('unknown request kind %r' % kind)
    except Exception as error:
        reply(request_id, 'error', ',"message":%s' % quote('%s: %s' % (type(error).__name__, error)))


def read_requests(events):
    global input_open, input_scanned
    data = os.read(0, READ_BYTES)
    if not data:
        input_open = False
        handlers.pop(0, None)
        poller.unregister(0)
        return
    pending_input.extend(data)
    while True:
        newline = pending_input.find(b'\n', input_scanned)
        if newline < 0:
            input_scanned = len(pending_input)
            return
        line = bytes(pending_input[:newline])
        del pending_input[: newline + 1]
        input_scanned = 0
        handle_request(line)


def check_deadlines():
    check_call_waiters()
    now = time.monotonic()
    for command in list(commands.values()):
        if command.pidfd < 0 and command.shell is None:
            reap(command)
            if not command.active:
                continue
        if not command.terminating and now >= command.deadline:
            terminate(command, True)
        elif command.terminating and not command.escalated and now >= command.kill_at:
            command.escalated = True
            signal_group(command, _signal.SIGKILL)


def next_wakeup_milliseconds():
    moments = [time.monotonic() + CALL_WAIT_POLL_SECONDS] if call_waiters else []
    for command in commands.values():
        if command.pidfd < 0 and command.shell is None:
            moments.append(time.monotonic() + EXIT_POLL_SECONDS)
        if not command.terminating:
            moments.append(command.deadline)
        elif not command.escalated:
            moments.append(command.kill_at)
    if not moments:
        return None
    return max(0, int((min(moments) - time.monotonic()) * 1000) + 1)


def stop_on_signal(number, frame):
    raise SystemExit(128 + number)


def main():
    for directory in (RUN_DIR, CALLS_DIR):
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError:
            pass
    watch(0, select.POLLIN, read_requests)
    watch(wake_read, select.POLLIN, lambda events: os.read(wake_read, 4096))
    send('{"type":"ready","pid":%d}' % os.getpid())
    while (input_open and keel_frames.output_open) or commands or file_operations_running:
        for fd, events in poller.poll(next_wakeup_milliseconds()):
            handler = handlers.get(fd)
            if handler is not None:
                handler(events)
        check_deadlines()


if __name__ == '__main__':
    _signal.signal(_signal.SIGTERM, stop_on_signal)
    try:
        main()
    finally:
        for command in list(commands.values()):
            signal_group(command, _signal.SIGKILL)
        if shell is not None:
            shell.kill()
