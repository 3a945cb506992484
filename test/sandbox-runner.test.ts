import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';

import { buildContainerConfig } from '../activities/sandbox/build-container-config';
import { execute } from '../activities/sandbox/execute';
import { provisionSandbox } from '../activities/sandbox/provision-sandbox';
import { RunnerPool } from '../activities/sandbox/runner/runner-pool';
import { RUNNER_MARKER } from '../activities/sandbox/runner/runner-source';
import type { RunnerFrame } from '../activities/sandbox/runner/runner-protocol';
import type { SandboxOptions } from '../activities/sandbox/sandbox-options';
import type { ExecuteInput, ExecuteResult, SandboxFileMount } from '../common/sandbox';
import { fileContentPath } from '../common/file-content-path';
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

/**
 * The Docker engine, with its `inspect` calls counted, and its clock (its containers' stop times and its own time)
 * shifted by `clockOffsetMs`, as an engine on another machine may have it.
 */
function instrumentedDocker(clockOffsetMs = 0): { docker: Docker; inspects: () => number } {
  let inspects = 0;
  const shift = (time: string): string => new Date(Date.parse(time) + clockOffsetMs).toISOString();
  const engine = Object.create(docker) as Docker;
  engine.getContainer = (id: string) => {
    const container = docker.getContainer(id);
    const inspect = container.inspect.bind(container);
    container.inspect = (async () => {
      inspects++;
      const info = await inspect();
      return { ...info, State: { ...info.State, FinishedAt: shift(info.State.FinishedAt) } };
    }) as typeof container.inspect;
    return container;
  };
  engine.info = (async () => {
    const info = (await docker.info()) as { SystemTime: string };
    return { ...info, SystemTime: shift(info.SystemTime) };
  }) as typeof docker.info;
  return { docker: engine, inspects: () => inspects };
}

/**
 * `bash` calls of one session through `execute` with a runner pool of their own (as one worker has it), on `options`;
 * `files` are the session's file resources for that call.
 */
function throughOwnPool(
  options: SandboxOptions,
  sessionId: string,
): { pool: RunnerPool; run: (command: string, files?: SandboxFileMount[]) => Promise<ExecuteResult> } {
  const pool = new RunnerPool(options.docker);
  const run = (command: string, files?: SandboxFileMount[]): Promise<ExecuteResult> =>
    execute(
      options,
      { sessionId, name: 'bash', input: { command }, ...(files === undefined ? {} : { files }) },
      {},
      pool,
    );
  return { pool, run };
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

  it('runner: once a call found the container running, later calls through its runner skip the Docker inspect', async () => {
    const sessionId = newSessionId();
    const engine = instrumentedDocker();
    const { run } = throughOwnPool({ ...sandbox.options, docker: engine.docker }, sessionId);
    expect(await run('echo one')).toEqual({ isError: false, output: 'one' });
    expect(await run('echo two')).toEqual({ isError: false, output: 'two' });
    const afterCheck = engine.inspects();
    expect(afterCheck).toBeGreaterThan(0);
    expect(await run('echo three')).toEqual({ isError: false, output: 'three' });
    expect(await run('cd /tmp && echo four')).toEqual({ isError: false, output: 'four' });
    expect(await run('pwd')).toEqual({ isError: false, output: '/tmp' });
    expect(engine.inspects()).toBe(afterCheck);
  });

  it('runner: a remembered container is not reused for other files: the call gets a container that mounts them', async () => {
    const sessionId = newSessionId();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'keel-runner-files-'));
    try {
      const fileId = `file_${randomBytes(8).toString('hex')}`;
      await mkdir(path.dirname(fileContentPath(dataDir, fileId)), { recursive: true });
      await writeFile(fileContentPath(dataDir, fileId), 'uploaded\n');
      const options = { ...sandbox.options, dataDir };
      const { pool, run } = throughOwnPool(options, sessionId);
      const first = [{ fileId, mountPath: '/mnt/first.txt' }];
      expect(await run('cat /mnt/first.txt', first)).toEqual({ isError: false, output: 'uploaded' });
      expect(await run('cat /mnt/first.txt', first)).toEqual({ isError: false, output: 'uploaded' });
      const before = pool.checkedSandbox(sessionId)?.containerId;
      expect(before).toMatch(/^[0-9a-f]{64}$/);
      const second = [{ fileId, mountPath: '/mnt/second.txt' }];
      expect(await run('cat /mnt/second.txt; ls /mnt', second)).toEqual({
        isError: false,
        output: 'uploaded\nsecond.txt',
      });
      const { containerId } = await provisionSandbox(options, { sessionId, files: second });
      expect(containerId).not.toBe(before);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("runner: a stopped container the pool still offers (its runner's end not seen) is replaced; the call runs once", async () => {
    const sessionId = newSessionId();
    const { pool, run } = throughOwnPool(sandbox.options, sessionId);
    expect(await run('echo one >> calls.txt')).toEqual({ isError: false, output: '' });
    const { containerId } = await sandbox.activities.provisionSandbox({ sessionId });
    await docker.getContainer(containerId).kill();
    await docker.getContainer(containerId).wait();
    pool.checkedSandbox = () => ({ containerId, filesKey: '', proxy: undefined });
    expect(await run('echo two >> calls.txt && cat calls.txt')).toEqual({ isError: false, output: 'one\ntwo' });
    expect((await sandbox.activities.provisionSandbox({ sessionId })).containerId).not.toBe(containerId);
  });

  it('runner: a reused container killed during `sleep 30` gives the "stopped" tool error, not a second run, whatever the engine\'s clock', async () => {
    const sessionId = newSessionId();
    // An engine whose clock is an hour behind this worker's: its stop times must not look earlier than the call.
    const engine = instrumentedDocker(-3_600_000);
    const { run } = throughOwnPool({ ...sandbox.options, docker: engine.docker }, sessionId);
    expect(await run('echo one')).toEqual({ isError: false, output: 'one' });
    expect(await run('echo two')).toEqual({ isError: false, output: 'two' });
    const { containerId } = await sandbox.activities.provisionSandbox({ sessionId });
    const inspectsBefore = engine.inspects();
    const running = run('echo started >> calls.txt && sleep 30');
    await sleep(1000);
    expect(engine.inspects()).toBe(inspectsBefore);
    await docker.getContainer(containerId).kill();
    const result = await running;
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/^The sandbox container stopped while running this command/);
    expect(await run('cat calls.txt')).toEqual({ isError: false, output: 'started' });
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

  it('runner: bash calls run in one persistent shell: variables, functions and `$$` carry over, until `restart`', async () => {
    const sessionId = newSessionId();
    await bash(sessionId, 'cd /tmp && LOCAL=kept && greet() { echo "hi $1"; }');
    const first = await bash(sessionId, 'pwd; echo "$LOCAL"; greet there; echo $$');
    const [, , , shellPid] = first.output.split('\n');
    expect(first).toEqual({ isError: false, output: `/tmp\nkept\nhi there\n${shellPid}` });
    expect((await bash(sessionId, 'echo $$')).output).toBe(shellPid);
    expect(await processes(sessionId)).toContainEqual(expect.stringContaining('/tmp/.keel/shell-state.sh'));
    await sandbox.activities.execute({ sessionId, name: 'bash', input: { restart: true } });
    const after = await bash(sessionId, 'pwd; echo "[$LOCAL]"; type greet >/dev/null 2>&1 || echo no greet; echo $$');
    expect(after.output).toMatch(/^\/workspace\n\[\]\nno greet\n\d+$/);
    expect(after.output).not.toMatch(new RegExp(`\\n${shellPid}$`));
  });

  it('runner: `exit`, a timeout and `set -e` end the persistent shell; the next call gets a new one with the state', async () => {
    const sessionId = newSessionId();
    const shellOf = async (): Promise<string> => (await bash(sessionId, 'echo $$')).output;
    const first = await shellOf();
    expect(await bash(sessionId, 'cd /tmp && export SAVED=1 && exit 5')).toEqual({
      isError: true,
      output: 'exit status 5',
    });
    const second = await shellOf();
    expect(second).not.toBe(first);
    expect((await bash(sessionId, 'pwd; echo $SAVED')).output).toBe('/tmp\n1');
    const timedOut = await bash(sessionId, 'sleep 30', { timeout_ms: 1000 });
    expect(timedOut.output).toMatch(/bash: command timed out after 1000ms$/);
    const third = await shellOf();
    expect(third).not.toBe(second);
    expect((await bash(sessionId, 'pwd; echo $SAVED')).output).toBe('/tmp\n1');
    expect(await bash(sessionId, 'set -e; export SAVED=3; false; echo unreached')).toEqual({
      isError: true,
      output: 'exit status 1',
    });
    expect((await bash(sessionId, 'echo $SAVED; case $- in *e*) echo errexit;; esac')).output).toBe('3');
    // Only the live shell's status FIFO: no call's files, and none of the ended shells'.
    expect(await execInSandbox(docker, sessionId, ['ls', '-A', '/tmp/.keel/runs'])).toMatch(
      /^shell-\d+-\d+\.status\n$/,
    );
  });

  it('runner: what a call started under the persistent shell, even in a session of its own, is stopped when it ends', async () => {
    const sessionId = newSessionId();
    expect(await bash(sessionId, 'setsid sleep 31 & sleep 32 & echo started')).toEqual({
      isError: false,
      output: 'started\nkeel: 2 background processes the command left running stopped when it ended.',
    });
    const running = await processes(sessionId);
    expect(running.join('\n')).not.toMatch(/sleep 3[12]/);
    expect(await bash(sessionId, 'wait; echo next')).toEqual({ isError: false, output: 'next' });
  });

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

describe('output over the cap on both paths', () => {
  const TOOL_OUTPUT_DIR = '/workspace/.keel/tool-output';
  const CUT_NOTE = /\n\[\.\.\. \d+ bytes of output cut here; (.+) \.\.\.\]\n/;

  /** What `seq 1 count` prints. */
  function sequence(count: number): string {
    return Array.from({ length: count }, (_, index) => `${index + 1}\n`).join('');
  }

  /** The SHA-256 of a file in the session's container, read with a plain `docker exec`. */
  async function sha256InSandbox(sessionId: string, path: string): Promise<string> {
    return (await execInSandbox(docker, sessionId, ['sha256sum', path])).split(' ')[0] ?? '';
  }

  function sha256(text: string): string {
    return createHash('sha256').update(text, 'utf8').digest('hex');
  }

  const pool = new RunnerPool(docker);

  /** Runs a tool through the runner or the per-call path, with `extraOptions` added to the sandbox's options. */
  function runOn(
    path: 'runner' | 'per-call',
    input: ExecuteInput,
    extraOptions: Partial<SandboxOptions> = {},
  ): Promise<ExecuteResult> {
    return execute({ ...sandbox.options, ...extraOptions }, input, {}, path === 'runner' ? pool : undefined);
  }

  /** Checks that a runner-path call really ran in the runner: had it died under the call, none would be left. */
  async function expectRunnerUsed(path: 'runner' | 'per-call', sessionId: string): Promise<void> {
    expect(await runnerPids(sessionId)).toHaveLength(path === 'runner' ? 1 : 0);
  }

  it('an oversized bash output gives the same text and the same whole file through the runner and per call', async () => {
    const whole = sequence(40_000);
    const input = { name: 'bash', input: { command: 'seq 1 40000' }, outputName: 'toolu_both' };
    const runnerSession = newSessionId();
    const perCallSession = newSessionId();
    const viaRunner = await sandbox.activities.execute({ sessionId: runnerSession, ...input });
    const perCall = await execute(sandbox.options, { sessionId: perCallSession, ...input });
    expect(viaRunner).toEqual(perCall);
    expect(CUT_NOTE.exec(perCall.output)?.[1]).toBe(`the whole output is in ${TOOL_OUTPUT_DIR}/toolu_both.txt`);
    for (const sessionId of [runnerSession, perCallSession]) {
      expect(await sha256InSandbox(sessionId, `${TOOL_OUTPUT_DIR}/toolu_both.txt`)).toBe(sha256(whole));
    }
    expect(await runnerPids(runnerSession)).toHaveLength(1);
  });

  it('runner: it saves the stdout itself as it streams, and its exit frame says how many bytes the file holds', async () => {
    const sessionId = newSessionId();
    const { containerId } = await sandbox.activities.provisionSandbox({ sessionId });
    const runner = await new RunnerPool(docker).acquire(containerId);
    const frames: RunnerFrame[] = [];
    const exited = new Promise<void>((resolve) => {
      runner?.send(
        {
          id: 'saving',
          kind: 'command',
          argv: ['bash', '-c', 'seq 1 5000; echo apart >&2'],
          timeoutMs: 10_000,
          outputFile: { path: `${TOOL_OUTPUT_DIR}/saving.txt`, afterBytes: 1000, maxBytes: 10_000 },
        },
        (frame) => {
          if (frame) frames.push(frame);
          if (frame === undefined || frame.type === 'exit') resolve();
        },
      );
    });
    await exited;
    const [exit] = frames.filter((frame) => frame.type === 'exit');
    expect(exit).toEqual({
      id: 'saving',
      type: 'exit',
      status: 0,
      timedOut: false,
      leftovers: 0,
      pidsLimitHit: false,
      outputFileBytes: 10_000,
    });
    const whole = sequence(5000);
    const saved = `${whole.slice(0, 10_000)}\n[... ${whole.length - 10_000} more bytes of output were not saved ...]\n`;
    expect(await sha256InSandbox(sessionId, `${TOOL_OUTPUT_DIR}/saving.txt`)).toBe(sha256(saved));
    runner?.close();
  });

  it.each(['runner', 'per-call'] as const)(
    '%s path: past maxSavedOutputBytes the file keeps the first bytes and a note, and the marker says so',
    async (path) => {
      const sessionId = newSessionId();
      const whole = sequence(100_000);
      const result = await runOn(
        path,
        { sessionId, name: 'bash', input: { command: 'seq 1 100000' }, outputName: 'toolu_huge' },
        { maxSavedOutputBytes: 100_000 },
      );
      expect(result.isError).toBe(false);
      expect(result.output.endsWith('99999\n100000')).toBe(true);
      expect(CUT_NOTE.exec(result.output)?.[1]).toBe(
        `the first 100000 bytes of the output are in ${TOOL_OUTPUT_DIR}/toolu_huge.txt`,
      );
      const unsaved = Buffer.byteLength(whole) - 100_000;
      const saved = `${whole.slice(0, 100_000)}\n[... ${unsaved} more bytes of output were not saved ...]\n`;
      expect(await sha256InSandbox(sessionId, `${TOOL_OUTPUT_DIR}/toolu_huge.txt`)).toBe(sha256(saved));
      await expectRunnerUsed(path, sessionId);
    },
  );

  it.each(['runner', 'per-call'] as const)(
    '%s path: when the file cannot be written, the marker says why and the call still succeeds',
    async (path) => {
      const sessionId = newSessionId();
      await runOn(path, { sessionId, name: 'bash', input: { command: 'touch /workspace/.keel' } });
      const result = await runOn(path, {
        sessionId,
        name: 'bash',
        input: { command: 'seq 1 5000' },
        outputName: 'toolu_blocked',
      });
      expect(result.isError).toBe(false);
      expect(result.output.endsWith('4999\n5000')).toBe(true);
      expect(CUT_NOTE.exec(result.output)?.[1]).toBe(
        `saving the whole output to ${TOOL_OUTPUT_DIR}/toolu_blocked.txt failed: Not a directory`,
      );
      await expectRunnerUsed(path, sessionId);
    },
  );

  it.each(['runner', 'per-call'] as const)(
    '%s path: saving an output removes the oldest saved outputs beyond 100 files, but never through a symbolic link',
    async (path) => {
      const sessionId = newSessionId();
      await runOn(path, {
        sessionId,
        name: 'bash',
        input: {
          command: `mkdir -p ${TOOL_OUTPUT_DIR} && cd ${TOOL_OUTPUT_DIR} && for i in $(seq 1 120); do touch -d @$((1600000000 + i)) old-$i.txt; done`,
        },
      });
      await runOn(path, { sessionId, name: 'bash', input: { command: 'seq 1 5000' }, outputName: 'toolu_new' });
      const names = (await execInSandbox(docker, sessionId, ['ls', TOOL_OUTPUT_DIR])).trim().split('\n');
      expect(names).toHaveLength(100);
      expect(names).toContain('toolu_new.txt');
      expect(names).toContain('old-22.txt');
      expect(names).not.toContain('old-21.txt');

      // A folder the model linked in place of the outputs' folder is its own: nothing in it is removed.
      await runOn(path, {
        sessionId,
        name: 'bash',
        input: {
          command: `cd /workspace && rm -r ${TOOL_OUTPUT_DIR} && mkdir mine && touch mine/a{1..120} && ln -s /workspace/mine ${TOOL_OUTPUT_DIR}`,
        },
      });
      await runOn(path, { sessionId, name: 'bash', input: { command: 'seq 1 5000' }, outputName: 'toolu_linked' });
      const mine = (await execInSandbox(docker, sessionId, ['ls', '/workspace/mine'])).trim().split('\n');
      expect(mine).toHaveLength(121);
      expect(mine).toContain('toolu_linked.txt');
      await expectRunnerUsed(path, sessionId);
    },
  );
});
