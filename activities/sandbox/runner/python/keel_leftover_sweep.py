"""The runner's `stop_leftovers(finished_session, active_sessions, spared)`, which kills what a command left behind so
that nothing it started outlives it.

A fork bomb's orphans would otherwise keep the pids limit full and every later command of the session would fail to
start. A leftover is a live process, other than the container's init, the runner itself and `spared`, that is either in
the finished command's session (`setsid` gave each command its own), or under `spared` (the persistent shell, idle once
its call ended), or an orphan: its parents lead to the container's init (pid 1) rather than to a `docker exec` (parent
pid 0, as the runner, other runners and per-call runs have), and it is in none of `active_sessions` nor in the init's
own session (the container's `sleep infinity`). Each round freezes every
leftover it finds with STOP (a stopped process cannot fork) and then kills them with KILL, until a round finds none or
`LEFTOVER_SWEEP_SECONDS` have passed. It returns how many processes it killed. It reads `/proc` only, so it works while
the pids limit is full. `pids_limit_hits()` reads how often the container's pids limit refused a new process so far
(cgroup v2 or v1 `pids.events`; -1 if unreadable).

Never run `stop_leftovers` outside a sandbox container: on a host every process descends from pid 1.
"""

import _signal
import os
import time

LEFTOVER_SWEEP_SECONDS = 5.0

PIDS_EVENTS_FILES = ('/sys/fs/cgroup/pids.events', '/sys/fs/cgroup/pids/pids.events')


def pids_limit_hits():
    for path in PIDS_EVENTS_FILES:
        try:
            with open(path, 'rb') as handle:
                for line in handle.read().splitlines():
                    name, _, count = line.partition(b' ')
                    if name == b'max':
                        return int(count)
        except (OSError, ValueError):
            pass
    return -1


def live_processes():
    """Yields (pid, the fields of its /proc stat after its name) of every process that is not a zombie."""
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name, 'rb') as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b')') + 2 :].split()
        if len(fields) < 4 or fields[0] in (b'Z', b'X'):
            continue
        yield int(name), fields


def read_process_table():
    return {pid: (int(fields[1]), int(fields[3])) for pid, fields in live_processes()}


def wait_for_group_exit(group, seconds):
    """Waits, up to `seconds`, until no live process is left in process group `group`; returns whether none is.

    A command killed with its group (a timeout, a cancellation) has processes on their way out for a moment after the
    KILL: a sweep right then would count them as processes the command left running.
    """
    deadline = time.monotonic() + seconds
    while any(int(fields[2]) == group for _, fields in live_processes()):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


def is_leftover(pid, table, finished_session, kept_sessions, spared=0):
    if pid == 1 or pid == os.getpid() or pid == spared:
        return False
    parent, session = table[pid]
    if finished_session and session == finished_session:
        return True
    if session in kept_sessions:
        return False
    for _ in range(len(table) + 1):
        # Under init, or under the idle persistent shell (a `setsid` child of it keeps it as its parent).
        if parent == 1 or (spared and parent == spared):
            return True
        if parent == 0 or parent not in table:
            return False
        parent = table[parent][0]
    return False


def stop_leftovers(finished_session, active_sessions, spared=0):
    """Kills the leftovers of the command whose session was `finished_session`, other than `spared` (the persistent
    shell, whose session it is and which outlives its calls, so that whatever runs under it is left over too), and
    returns how many it killed."""
    kept_sessions = set(active_sessions)
    kept_sessions.add(1)
    killed = set()
    deadline = time.monotonic() + LEFTOVER_SWEEP_SECONDS
    while time.monotonic() < deadline:
        table = read_process_table()
        found = [pid for pid in table if is_leftover(pid, table, finished_session, kept_sessions, spared)]
        if not found:
            break
        for number in (_signal.SIGSTOP, _signal.SIGKILL):
            for pid in found:
                try:
                    os.kill(pid, number)
                except OSError:
                    pass
        killed.update(found)
        time.sleep(0.01)
    return len(killed)
