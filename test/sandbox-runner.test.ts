import { setTimeout as sleep } from 'node:timers/promises';

import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';

import { buildContainerConfig } from '../activities/sandbox/build-container-config';
import { execute } from '../activities/sandbox/execute';
import { RunnerPool } from '../activities/sandbox/runner/runner-pool';
import { RUNNER_MARKER } from '../activities/sandbox/runner/runner-source';
import type { ExecuteResult } from '../common/sandbox';
import { sandboxVolumeName } from '../common/sandbox';
import { execInSandbox } from './support/test-stack';
import { useSandboxFixture } from './support/sandbox-fixture';

const sandbox = useSandboxFixture('runner');
const { docker, newSessionId, bash, processes } = sandbox;

/** The pids of the persistent runners in the session's container. */
async function runnerPids(sessionId: string): Promise<string[]> {
  const output = await execInSandbox(docker, sessionId, ['pgrep', '-f', RUNNER_MARKER]);
  return output.split('\n').filter((line) => line !== '');
}

describe('persistent runner', () => {
  it('runner: one runner serves successive bash and file calls of a session', async () => {
    const sessionId = newSessionId();
    expect(await bash(sessionId, 'echo one')).toEqual({ isError: false, output: 'one' });
    const [first, ...others] = await runnerPids(sessionId);
    expect(first).toMatch(/^\d+$/);
    expect(others).toEqual([]);
    await sandbox.activities.execute({ sessionId, name: 'write', input: { file_path: 'a.txt', content: 'alpha\n' } });
    expect(await sandbox.activities.execute({ sessionId, name: 'read', input: { file_path: 'a.txt' } })).toEqual({
      isError: false,
      output: 'alpha\n',
    });
    expect(await bash(sessionId, 'echo two')).toEqual({ isError: false, output: 'two' });
    expect(await runnerPids(sessionId)).toEqual([first]);
  });

  it('runner: after `docker kill` of the container, the next call gets a new container and a new runner', async () => {
    const sessionId = newSessionId();
    await bash(sessionId, 'echo kept > kept.txt');
    const { containerId } = await sandbox.activities.provisionSandbox({ sessionId });
    await docker.getContainer(containerId).kill();
    await docker.getContainer(containerId).wait();

    expect(await bash(sessionId, 'cat kept.txt')).toEqual({ isError: false, output: 'kept' });
    expect((await sandbox.activities.provisionSandbox({ sessionId })).containerId).not.toBe(containerId);
    expect(await runnerPids(sessionId)).toHaveLength(1);
  });

  it('runner: cancelling `sleep 60` kills it, and the runner serves the next call', async () => {
    const sessionId = newSessionId();
    await bash(sessionId, 'true');
    const [runner] = await runnerPids(sessionId);
    const environment = new MockActivityEnvironment();
    const running = environment
      .run(sandbox.activities.execute, { sessionId, name: 'bash', input: { command: 'sleep 60' } })
      .then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
    await sleep(500);
    expect(await processes(sessionId)).toContain('sleep 60');
    const cancelledAt = Date.now();
    environment.cancel();
    const settled = await running;
    expect('error' in settled && settled.error).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - cancelledAt).toBeLessThan(3000);
    expect(await processes(sessionId)).not.toContain('sleep 60');
    expect(await execInSandbox(docker, sessionId, ['ls', '-A', '/tmp/.keel/runs'])).toBe('');
    expect(await bash(sessionId, 'echo next')).toEqual({ isError: false, output: 'next' });
    expect(await runnerPids(sessionId)).toEqual([runner]);
  });

  it.each([
    ['TERM', []],
    ['KILL', ['--signal', 'KILL']],
  ])(
    'runner: killed by `pkill -f` (%s) mid-command, the call kills the first attempt, runs per call, and the next call gets a new runner',
    async (_signal, pkillOptions) => {
      const sessionId = newSessionId();
      await bash(sessionId, 'true');
      const [runner] = await runnerPids(sessionId);
      // The first attempt sleeps; the per-call rerun sees the marker and answers at once.
      const running = bash(sessionId, 'if [ -e attempted ]; then echo rerun; else touch attempted; sleep 30; fi');
      await sleep(800);
      expect(await processes(sessionId)).toContain('sleep 30');
      await execInSandbox(docker, sessionId, ['pkill', ...pkillOptions, '-f', RUNNER_MARKER]);

      expect(await running).toEqual({ isError: false, output: 'rerun' });
      expect(await processes(sessionId)).not.toContain('sleep 30');
      expect(await bash(sessionId, 'echo next')).toEqual({ isError: false, output: 'next' });
      const runners = await runnerPids(sessionId);
      expect(runners).toHaveLength(1);
      expect(runners).not.toContain(runner);
    },
  );

  it('runner: two overlapping commands in one session get their own output and status', async () => {
    const sessionId = newSessionId();
    const [slow, fast] = await Promise.all([
      bash(sessionId, 'sleep 0.5; echo slow; exit 4'),
      bash(sessionId, 'echo fast'),
    ]);
    expect(slow).toEqual({ isError: true, output: 'slow\nexit status 4' });
    expect(fast).toEqual({ isError: false, output: 'fast' });
    expect(await runnerPids(sessionId)).toHaveLength(1);
  });

  it('runner: a command larger than a pipe buffer reaches bash whole', async () => {
    const sessionId = newSessionId();
    const command = `: ${'x'.repeat(300_000)}\necho done`;
    expect(await bash(sessionId, command)).toEqual({ isError: false, output: 'done' });
  });

  it('runner: when its connection closes (the worker died), the running command finishes and the runner exits', async () => {
    const sessionId = newSessionId();
    const { containerId } = await sandbox.activities.provisionSandbox({ sessionId });
    const pool = new RunnerPool(docker);
    const runner = await pool.acquire(containerId);
    expect(await runnerPids(sessionId)).toEqual([String(runner?.pid)]);
    runner?.send({
      id: 'orphaned',
      kind: 'command',
      argv: ['bash', '-c', 'sleep 1; echo finished > /workspace/after.txt'],
      timeoutMs: 10_000,
    });
    await sleep(300);
    runner?.close();
    await sleep(1500);
    expect(await execInSandbox(docker, sessionId, ['cat', '/workspace/after.txt'])).toBe('finished\n');
    expect(await runnerPids(sessionId)).toEqual([]);
  });
});

describe('runner that cannot start', () => {
  it('runner: where python3 cannot run, bash calls take the per-call path and file tools report the error as before', async () => {
    const sessionId = newSessionId();
    const config = buildContainerConfig(sandbox.options, sessionId);
    const hostConfig = config.HostConfig ?? {};
    await docker.createVolume({ Name: sandboxVolumeName(sessionId) });
    const container = await docker.createContainer({
      ...config,
      HostConfig: {
        ...hostConfig,
        Mounts: [
          ...(hostConfig.Mounts ?? []),
          { Type: 'bind', Source: '/dev/null', Target: '/usr/bin/python3.11', ReadOnly: true },
        ],
      },
    });
    await container.start();

    expect(await bash(sessionId, 'echo one')).toEqual({ isError: false, output: 'one' });
    expect(await bash(sessionId, 'cd /tmp && export KEPT=yes')).toEqual({ isError: false, output: '' });
    expect(await bash(sessionId, 'pwd; echo $KEPT')).toEqual({ isError: false, output: '/tmp\nyes' });
    const read = await sandbox.activities.execute({ sessionId, name: 'read', input: { file_path: 'a.txt' } });
    expect(read).toEqual({
      isError: true,
      output: expect.stringMatching(/^read: internal error: .*Permission denied/),
    });
    expect(await runnerPids(sessionId)).toEqual([]);
  });
});

describe('runner and per-call paths agree', () => {
  /** Runs a tool through the per-call path (no runner), as a worker without runners would. */
  function perCall(sessionId: string, name: string, input: Record<string, unknown>): Promise<ExecuteResult> {
    return execute(sandbox.options, { sessionId, name, input });
  }

  it('file tools and bash give the same results on both paths, and the shell state crosses between them', async () => {
    const calls: Array<[string, Record<string, unknown>]> = [
      ['bash', { command: "printf 'caf\\xc3\\xa9 \\xff\\xfe end\\n' > bytes.txt" }],
      ['read', { file_path: 'bytes.txt' }],
      ['read', { file_path: 'missing.txt' }],
      ['read', { file_path: '.' }],
      ['write', { file_path: 'deep/new.txt', content: 'one\ntwo\n' }],
      ['edit', { file_path: 'deep/new.txt', old_string: 'two', new_string: 'three' }],
      ['edit', { file_path: 'deep/new.txt', old_string: 'absent', new_string: 'x' }],
      ['read', { file_path: 'deep/new.txt', view_range: [2, 2] }],
      ['glob', { pattern: '**/*.txt' }],
      ['glob', { pattern: '*.txt', path: 'nowhere' }],
      ['grep', { pattern: 'thr.e' }],
      ['bash', { command: 'echo out; echo err >&2; exit 2' }],
    ];
    const runnerSession = newSessionId();
    const perCallSession = newSessionId();
    for (const [name, input] of calls) {
      const viaRunner = await sandbox.activities.execute({ sessionId: runnerSession, name, input });
      const expected = await perCall(perCallSession, name, input);
      expect(viaRunner, `${name} ${JSON.stringify(input)}`).toEqual(expected);
    }
    expect((await perCall(runnerSession, 'read', { file_path: 'bytes.txt' })).output).toContain('\uFFFD');

    const viaRunner = (input: Record<string, unknown>): Promise<ExecuteResult> =>
      sandbox.activities.execute({ sessionId: runnerSession, name: 'bash', input });
    await viaRunner({ command: 'mkdir -p sub && cd sub && export FROM_RUNNER=1' });
    expect((await perCall(runnerSession, 'bash', { command: 'pwd; echo $FROM_RUNNER' })).output).toBe(
      '/workspace/sub\n1',
    );
    await perCall(runnerSession, 'bash', { command: 'cd / && export FROM_PER_CALL=2' });
    expect((await viaRunner({ command: 'pwd; echo $FROM_RUNNER $FROM_PER_CALL' })).output).toBe('/\n1 2');
  });

  it('per-call path: a command past timeout_ms is reported as timed out', async () => {
    const sessionId = newSessionId();
    const result = await perCall(sessionId, 'bash', { command: 'echo before; sleep 30', timeout_ms: 1000 });
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/^before\n(Terminated\n)?bash: command timed out after 1000ms$/);
  });
});
