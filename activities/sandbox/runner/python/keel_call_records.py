"""The runner's call records, which make a keyed call (a request with `key`, the model's tool-use id) run at most once
per container.

Before it runs, the runner writes `CALLS_DIR/<key>.started` (its own pid, and the command's process group once it has
one); when the call ends it writes `CALLS_DIR/<key>.done` (the `exit` or `result` frame's fields and the output the
worker would have kept, head and tail capped as the worker caps them) before it answers. Both survive the runner (a
dead worker's runner lets its commands finish and records them) but not the container: they live on its tmpfs `/tmp`,
out of the agent's workspace. `recall_decision` says what a keyed call does given its records: `replay` the recorded
result, `wait` for the runner that still runs it, answer `interrupted` (it started, and its runner died without a
result) or `run` it. Only the newest `MAX_CALL_RECORDS` finished records are kept.
"""

import _signal
import os

from keel_constants import CALLS_DIR, MAX_CALL_RECORDS, RUNNER_MARKER
from keel_frames import SAFE_ID_CHARACTERS, base64_of, quote, reply, scan_json


def call_path(key, suffix):
    return '%s/%s.%s' % (CALLS_DIR, key, suffix)


def read_call_record(key, suffix):
    try:
        with open(call_path(key, suffix), 'rb') as handle:
            record = scan_json(handle.read().decode('ascii'), 0)[0]
    except Exception:
        return None
    return record if isinstance(record, dict) else None


def write_call_record(key, suffix, text):
    path = call_path(key, suffix)
    temporary = '%s.%d.tmp' % (path, os.getpid())
    try:
        with open(temporary, 'w') as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


def forget_call(key):
    for suffix in ('started', 'done'):
        try:
            os.unlink(call_path(key, suffix))
        except OSError:
            pass


def mark_call_started(key, group):
    write_call_record(key, 'started', '{"runner":%d,"group":%d}' % (os.getpid(), group))


def prune_call_records():
    finished = []
    try:
        with os.scandir(CALLS_DIR) as entries:
            for entry in entries:
                if entry.name.endswith('.done'):
                    try:
                        finished.append((entry.stat().st_mtime, entry.name[: -len('.done')]))
                    except OSError:
                        pass
    except OSError:
        return
    if len(finished) <= MAX_CALL_RECORDS:
        return
    finished.sort(reverse=True)
    for _modified, key in finished[MAX_CALL_RECORDS:]:
        forget_call(key)


def runner_alive(pid, key):
    if pid == os.getpid():
        return key in active_call_keys
    if pid <= 0:
        return False
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return RUNNER_MARKER.encode() in handle.read()
    except OSError:
        return False


def recall_decision(done, started, owner_alive):
    if done is not None:
        return 'replay'
    if started is None:
        return 'run'
    return 'wait' if owner_alive else 'interrupted'


def recall(key):
    done = read_call_record(key, 'done')
    started = read_call_record(key, 'started') if done is None else None
    owner = started.get('runner') if started is not None else 0
    decision = recall_decision(done, started, isinstance(owner, int) and runner_alive(owner, key))
    if decision == 'interrupted':
        # The owner may have recorded the end and exited between the two reads.
        done = read_call_record(key, 'done')
        if done is not None:
            decision = 'replay'
    return decision, done, started


class Capture:
    def __init__(self, limit):
        self.limit = max(0, int(limit))
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def push(self, data):
        self.total += len(data)
        room = self.limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.limit:
                del self.tail[: len(self.tail) - self.limit]

    def fields(self):
        tail = self.tail[len(self.tail) - self.limit :] if len(self.tail) > self.limit else self.tail
        head, tail = base64_of(bytes(self.head)), base64_of(bytes(tail))
        return '{"head":"%s","tail":"%s","total":%d}' % (head, tail, self.total)


def record_command_end(key, fields, captures):
    write_call_record(
        key,
        'done',
        '{"exit":%s,"stdout":%s,"stderr":%s}'
        % (quote(fields), captures['stdout'].fields(), captures['stderr'].fields()),
    )
    prune_call_records()


def record_file_result(key, fields):
    write_call_record(key, 'done', '{"result":%s}' % quote(fields))
    prune_call_records()


def replay_call(request_id, done, how):
    if 'result' in done:
        reply(request_id, 'result', '%s,"recall":"%s"' % (done['result'], how))
        return
    reply(request_id, 'started', ',"pid":0')
    for stream in ('stdout', 'stderr'):
        part = done.get(stream) or {}
        reply(
            request_id,
            'recorded',
            ',"stream":"%s","headBase64":"%s","tailBase64":"%s","totalBytes":%d'
            % (stream, part.get('head', ''), part.get('tail', ''), int(part.get('total', 0))),
        )
    reply(request_id, 'exit', '%s,"recall":"%s"' % (done['exit'], how))


def answer_interrupted(request_id, kind):
    if kind == 'file':
        reply(request_id, 'result', ',"status":-1,"dataBase64":"","recall":"interrupted"')
        return
    reply(request_id, 'started', ',"pid":0')
    reply(request_id, 'exit', ',"status":-1,"timedOut":false,"recall":"interrupted"')


class CallWaiter:
    def __init__(self, request_id, kind, key, started):
        self.id = request_id
        self.kind = kind
        self.key = key
        group = started.get('group')
        self.group = group if isinstance(group, int) else 0


call_waiters = {}
active_call_keys = set()


def recall_or_run(request_id, kind, key):
    if not set(key) <= SAFE_ID_CHARACTERS:
        raise ValueError('bad key')
    decision, done, started = recall(key)
    if decision == 'replay':
        replay_call(request_id, done, 'replayed')
    elif decision == 'interrupted':
        answer_interrupted(request_id, kind)
    elif decision == 'wait':
        if kind == 'command':
            reply(request_id, 'started', ',"pid":0')
        call_waiters[request_id] = CallWaiter(request_id, kind, key, started)
    return decision == 'run'


def check_call_waiters():
    for waiter in list(call_waiters.values()):
        decision, done, started = recall(waiter.key)
        if decision == 'wait':
            continue
        del call_waiters[waiter.id]
        if decision == 'replay':
            replay_call(waiter.id, done, 'waited')
        else:
            answer_interrupted(waiter.id, waiter.kind)


def kill_waited_call(request_id):
    waiter = call_waiters.get(request_id)
    if waiter is None or waiter.group <= 0:
        return False
    for number in (_signal.SIGTERM, _signal.SIGCONT):
        try:
            os.killpg(waiter.group, number)
        except OSError:
            pass
    return True
