import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import { createSandboxActivities } from '../activities/sandbox/create-sandbox-activities';
import { OutputCollector } from '../activities/sandbox/output-collector';
import { pythonConstantsModule, pythonProgramSource } from '../activities/sandbox/python-program';
import { RunnerPool } from '../activities/sandbox/runner/runner-pool';
import { RunnerSession } from '../activities/sandbox/runner/runner-session';
import { RUNNER_CONSTANTS, RUNNER_MARKER, RUNNER_MODULES } from '../activities/sandbox/runner/runner-source';
import {
  idempotencyKeyOf,
  interruptedCallOutput,
  recalledCallResult,
  startedInLostContainer,
} from '../activities/sandbox/tools/recalled-call';
import type { ExecuteInput } from '../common/sandbox';
import { useSandboxFixture } from './support/sandbox-fixture';
import { execInSandbox } from './support/test-stack';

const sandbox = useSandboxFixture('idem');
const { docker, newSessionId } = sandbox;

/** Runs `recall_decision` of the runner's Python (on the host's `python3`, no container) for each case. */
function pythonRecallDecisions(cases: [string, string, string][]): string[] {
  const main = [
    'import sys',
    'from keel_call_records import recall_decision',
    'for done, started, alive in [tuple(line.split()) for line in sys.stdin.read().splitlines()]:',
    "    value = lambda text: None if text == 'none' else {}",
    "    print(recall_decision(value(done), value(started), alive == 'alive'))",
  ].join('\n');
  const library = RUNNER_MODULES.filter((module) => module.name !== 'keel_runner');
  const program = pythonProgramSource([
    pythonConstantsModule(RUNNER_CONSTANTS),
    ...library,
    { name: 'recall_decisions', source: main },
  ]);
  const input = cases.map((fields) => fields.join(' ')).join('\n');
  return execFileSync('python3', ['-I', '-c', program], { input, encoding: 'utf8' }).trim().split('\n');
}

/** The lines of a file in the session's workspace. */
async function linesOf(sessionId: string, name: string): Promise<string[]> {
  const text = await execInSandbox(docker, sessionId, ['cat', `/workspace/${name}`]);
  return text.split('\n').filter((line) => line !== '');
}

describe('tool call idempotency: pure decisions', () => {
  it('recall_decision: a finished call replays, a running one is waited for, a dead one is interrupted, a new one runs', () => {
    expect(
      pythonRecallDecisions([
        ['record', 'none', 'dead'],
        ['record', 'record', 'alive'],
        ['none', 'record', 'alive'],
        ['none', 'record', 'dead'],
        ['none', 'none', 'dead'],
      ]),
    ).toEqual(['replay', 'replay', 'wait', 'interrupted', 'run']);
  });

  it('idempotencyKeyOf: keys the tools that change the sandbox by tool-use id, never the read-only ones', () => {
    expect(idempotencyKeyOf('bash', 'toolu_01AbC')).toBe('toolu_01AbC');
    expect(idempotencyKeyOf('write', 'toolu_01/../x')).toBe('toolu_01____x');
    expect(idempotencyKeyOf('edit', 'toolu_9')).toBe('toolu_9');
    expect(idempotencyKeyOf('read', 'toolu_1')).toBeUndefined();
    expect(idempotencyKeyOf('glob', 'toolu_1')).toBeUndefined();
    expect(idempotencyKeyOf('grep', 'toolu_1')).toBeUndefined();
    expect(idempotencyKeyOf('bash', undefined)).toBeUndefined();
    expect(idempotencyKeyOf('bash', '')).toBeUndefined();
  });

  it('recalledCallResult: an interrupted call is an error that says it was not run again; a replayed one reads as run', () => {
    const base = { exitCode: 0, timedOut: false, output: 'hi', errorOutput: '' };
    expect(recalledCallResult('bash', { ...base, exitCode: -1, recall: 'interrupted' })).toEqual({
      isError: true,
      output: interruptedCallOutput('bash'),
    });
    expect(interruptedCallOutput('edit')).toMatch(/^edit: interrupted: .*did not run it again/);
    expect(recalledCallResult('bash', { ...base, recall: 'replayed' })).toBeUndefined();
    expect(recalledCallResult('bash', { ...base, recall: 'waited' })).toBeUndefined();
    expect(recalledCallResult('bash', base)).toBeUndefined();
  });

  it('startedInLostContainer: a retry of a call the previous attempt sent to another container is interrupted', () => {
    const checkpoint = { idempotencyKey: 'toolu_1', containerId: 'old' };
    expect(startedInLostContainer(checkpoint, 'toolu_1', 'new')).toBe(true);
    expect(startedInLostContainer(checkpoint, 'toolu_1', 'old')).toBe(false);
    expect(startedInLostContainer(checkpoint, 'toolu_2', 'new')).toBe(false);
    expect(startedInLostContainer(undefined, 'toolu_1', 'new')).toBe(false);
    expect(startedInLostContainer('garbage', 'toolu_1', 'new')).toBe(false);
  });

  it('OutputCollector.pushKept: a recorded head and tail give the text the whole stream gave', () => {
    const stream = Buffer.from(Array.from({ length: 500 }, (_, index) => `line ${index}\n`).join(''));
    const whole = new OutputCollector(100);
    for (let offset = 0; offset < stream.length; offset += 37) whole.push(stream.subarray(offset, offset + 37));
    const kept = new OutputCollector(100);
    kept.pushKept(stream.subarray(0, 100), stream.subarray(stream.length - 100), stream.length);
    expect(kept.text('note')).toBe(whole.text('note'));
    expect(kept.totalBytes).toBe(stream.length);
    const short = new OutputCollector(100);
    short.pushKept(Buffer.from('short'), Buffer.alloc(0), 5);
    expect(short.text()).toBe('short');
  });
});

describe('tool call idempotency: the runner records keyed calls (real Docker)', () => {
  it('bash: a call retried with the same tool-use id returns the recorded output and does not run again', async () => {
    const sessionId = newSessionId();
    const call: ExecuteInput = {
      sessionId,
      name: 'bash',
      input: { command: 'echo ran >> runs.log; seq 1 3000; echo to-stderr >&2' },
      outputName: 'toolu_repeat1',
    };
    const first = await sandbox.activities.execute(call);
    expect(first.isError).toBe(false);
    expect(first.output).toContain('3000');
    const second = await sandbox.activities.execute(call);
    expect(second).toEqual(first);
    // Another worker (its own runner) gets the same answer.
    const other = createSandboxActivities(sandbox.options, new RunnerPool(docker));
    expect(await other.execute(call)).toEqual(first);
    expect(await linesOf(sessionId, 'runs.log')).toEqual(['ran']);
    const fresh = await sandbox.activities.execute({ ...call, outputName: 'toolu_repeat2' });
    expect(fresh.isError).toBe(false);
    expect(fresh.output).toContain('3000');
    expect(await linesOf(sessionId, 'runs.log')).toEqual(['ran', 'ran']);
  });

  it('write and edit: a retried call with the same tool-use id is not applied twice', async () => {
    const sessionId = newSessionId();
    const write: ExecuteInput = {
      sessionId,
      name: 'write',
      input: { file_path: 'notes.txt', content: 'a\n' },
      outputName: 'toolu_write1',
    };
    const written = await sandbox.activities.execute(write);
    expect(written).toEqual({ isError: false, output: 'wrote 2 bytes to notes.txt' });
    const edit: ExecuteInput = {
      sessionId,
      name: 'edit',
      input: { file_path: 'notes.txt', old_string: 'a', new_string: 'aa', replace_all: true },
      outputName: 'toolu_edit1',
    };
    const edited = await sandbox.activities.execute(edit);
    expect(edited.isError).toBe(false);
    expect(await sandbox.activities.execute(edit)).toEqual(edited);
    expect(await linesOf(sessionId, 'notes.txt')).toEqual(['aa']);
    // The model changed the file since: the retried write does not overwrite it.
    await sandbox.bash(sessionId, 'echo later > notes.txt');
    expect(await sandbox.activities.execute(write)).toEqual(written);
    expect(await linesOf(sessionId, 'notes.txt')).toEqual(['later']);
  });

  it('bash: a retry while the first run still runs in a dead worker’s runner waits for it and returns its output', async () => {
    const sessionId = newSessionId();
    const { containerId } = await sandbox.activities.provisionSandbox({ sessionId });
    // A worker's runner starts the keyed command, then the worker dies: the runner's stdin closes, and the runner lets
    // the command finish and records it.
    const deadWorkerRunner = await RunnerSession.start(docker, containerId);
    expect(deadWorkerRunner).toBeDefined();
    deadWorkerRunner?.send({
      id: 'first-attempt',
      kind: 'command',
      argv: ['bash', '-c', 'echo ran >> runs.log; sleep 3; echo finished'],
      timeoutMs: 30_000,
      key: 'toolu_wait1',
      keepBytes: 4096,
      keepErrorBytes: 4096,
    });
    await waitFor(async () => (await linesOf(sessionId, 'runs.log').catch(() => [])).length === 1);
    deadWorkerRunner?.close();
    const started = Date.now();
    const retried = await sandbox.activities.execute({
      sessionId,
      name: 'bash',
      input: { command: 'echo ran >> runs.log; sleep 3; echo finished' },
      outputName: 'toolu_wait1',
    });
    expect(retried).toEqual({ isError: false, output: 'finished' });
    expect(Date.now() - started).toBeGreaterThan(1_000);
    expect(await linesOf(sessionId, 'runs.log')).toEqual(['ran']);
  });

  it('bash: a call whose runner was killed mid-command is reported interrupted and not run again', async () => {
    const sessionId = newSessionId();
    await sandbox.bash(sessionId, 'true');
    const call: ExecuteInput = {
      sessionId,
      name: 'bash',
      input: { command: 'echo ran >> runs.log; sleep 30; echo never' },
      outputName: 'toolu_interrupted1',
    };
    const running = sandbox.activities.execute(call);
    await waitFor(async () => (await linesOf(sessionId, 'runs.log').catch(() => [])).length === 1);
    await execInSandbox(docker, sessionId, ['pkill', '-KILL', '-f', RUNNER_MARKER]);
    expect(await running).toEqual({ isError: true, output: interruptedCallOutput('bash') });
    expect(await sandbox.activities.execute(call)).toEqual({ isError: true, output: interruptedCallOutput('bash') });
    expect(await linesOf(sessionId, 'runs.log')).toEqual(['ran']);
    expect(await sandbox.processes(sessionId)).not.toContain('sleep 30');
  });
});

/** Polls `check` every 100 ms for up to 20 s. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error('timed out waiting for a condition');
}
