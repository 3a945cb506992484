import { setTimeout as sleep } from 'node:timers/promises';

import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';

import { capOutput, cutMarker } from '../activities/sandbox/cap-output';
import { OutputCollector } from '../activities/sandbox/output-collector';
import { SentinelScanner } from '../activities/sandbox/sentinel-scanner';
import { SANDBOX_TOOL_DEFINITIONS } from '../activities/sandbox/tool-definitions';
import { SANDBOX_TOOL_NAMES } from '../common/agent';
import type { ExecuteResult } from '../common/sandbox';
import { SANDBOX_LABELS, sandboxContainerName, sandboxVolumeName } from '../common/sandbox';
import { SANDBOX_TEST_LIMITS, useSandboxFixture } from './support/sandbox-fixture';
import { execInSandbox } from './support/test-stack';

const sandbox = useSandboxFixture('test');
const { docker, newSessionId, bash, processes } = sandbox;
const {
  memoryBytes: MEMORY_BYTES,
  nanoCpus: NANO_CPUS,
  pidsLimit: PIDS_LIMIT,
  maxOutputBytes: MAX_OUTPUT_BYTES,
} = SANDBOX_TEST_LIMITS;

/** Polls until no process in the container has the command line `commandLine`; fails after `withinMs`. */
async function expectProcessGone(sessionId: string, commandLine: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const lines = await processes(sessionId);
    if (!lines.includes(commandLine)) return;
    if (Date.now() > deadline) expect(lines).not.toContain(commandLine);
    await sleep(100);
  }
}

describe('capOutput', () => {
  it('capOutput: output under the cap is returned unchanged', () => {
    expect(capOutput('hello\n', 100)).toBe('hello\n');
  });

  it('capOutput: output over the cap keeps head and tail around a marker with the cut byte count', () => {
    const text = 'a'.repeat(500) + 'b'.repeat(500);
    const capped = capOutput(text, 200);
    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(200);
    expect(capped.startsWith('aaaa')).toBe(true);
    expect(capped.endsWith('bbbb')).toBe(true);
    const cut = Number(/\[\.\.\. (\d+) bytes of output cut here/.exec(capped)?.[1]);
    const kept = capped.replace(cutMarker(cut), '');
    expect(kept).toMatch(/^a+b+$/);
    expect(kept.length + cut).toBe(1000);
  });

  it('capOutput: a cut never splits a UTF-8 character', () => {
    const capped = capOutput('é'.repeat(1000), 101);
    expect(capped).not.toContain('\uFFFD');
  });

  it('OutputCollector: a stream far over the cap keeps head and tail and counts every cut byte', () => {
    const collector = new OutputCollector(100);
    const text = Array.from({ length: 10_000 }, (_, index) => `${index}\n`).join('');
    for (let offset = 0; offset < text.length; offset += 7) collector.push(Buffer.from(text.slice(offset, offset + 7)));
    expect(collector.text()).toBe(capOutput(text, 100));
  });

  it('SentinelScanner: a sentinel split across chunks ends the run and is kept out of the output', () => {
    const scanner = new SentinelScanner('__END_');
    const output = [
      scanner.push(Buffer.from('out__E')),
      scanner.push(Buffer.from('ND_12')),
      scanner.push(Buffer.from('\nlate')),
    ];
    expect(Buffer.concat(output).toString()).toBe('out');
    expect(scanner.exitCode).toBe(12);
  });
});

describe('SANDBOX_TOOL_DEFINITIONS', () => {
  it('SANDBOX_TOOL_DEFINITIONS: defines every built-in tool with an object input schema', () => {
    expect(SANDBOX_TOOL_DEFINITIONS.map((tool) => tool.name)).toEqual([...SANDBOX_TOOL_NAMES]);
    for (const tool of SANDBOX_TOOL_DEFINITIONS) expect(tool.input_schema.type).toBe('object');
  });
});

describe('provisionSandbox', () => {
  it('provisionSandbox: the second call reuses the hardened container, which runs as uid 1000', async () => {
    const sessionId = newSessionId();
    const first = await sandbox.activities.provisionSandbox({ sessionId });
    const second = await sandbox.activities.provisionSandbox({ sessionId });
    expect(first.created).toBe(true);
    expect(second).toEqual({ containerId: first.containerId, created: false });

    const info = await docker.getContainer(first.containerId).inspect();
    expect(info.Name).toBe(`/${sandboxContainerName(sessionId)}`);
    expect(info.Config.User).toBe('1000:1000');
    expect(info.Config.Labels[SANDBOX_LABELS.session]).toBe(sessionId);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.NetworkMode).toBe('none');
    expect(info.HostConfig.Memory).toBe(MEMORY_BYTES);
    expect(info.HostConfig.NanoCpus).toBe(NANO_CPUS);
    expect(info.HostConfig.PidsLimit).toBe(PIDS_LIMIT);
    expect(Object.keys(info.HostConfig.Tmpfs ?? {})).toContain('/tmp');
    expect(info.Mounts).toContainEqual(
      expect.objectContaining({ Type: 'volume', Name: sandboxVolumeName(sessionId), Destination: '/workspace' }),
    );

    const status = await bash(
      sessionId,
      'id -u; grep -E "^(Uid|CapEff|NoNewPrivs)" /proc/1/status; touch /workspace/probe && echo writable; touch /probe',
    );
    const lines = status.output.split('\n');
    expect(lines[0]).toBe('1000');
    expect(lines[1]).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/);
    expect(lines[2]).toMatch(/^CapEff:\s+0+$/);
    expect(lines[3]).toMatch(/^NoNewPrivs:\s+1$/);
    expect(lines[4]).toBe('writable');
    expect(status.output).toContain('Read-only file system');
  });

  it('provisionSandbox: concurrent calls for one session agree on one container', async () => {
    const sessionId = newSessionId();
    const results = await Promise.all([1, 2, 3, 4].map(() => sandbox.activities.provisionSandbox({ sessionId })));
    expect(new Set(results.map((result) => result.containerId)).size).toBe(1);
    expect(results.filter((result) => result.created)).toHaveLength(1);
  });
});

describe('execute: bash', () => {
  it('bash: `echo hello` returns `hello`', async () => {
    expect(await bash(newSessionId(), 'echo hello')).toEqual({ isError: false, output: 'hello' });
  });

  it('bash: a non-zero exit is an error with interleaved output and the exit status', async () => {
    const result = await bash(newSessionId(), 'echo out; echo err >&2; echo more; exit 3');
    expect(result).toEqual({ isError: true, output: 'out\nerr\nmore\nexit status 3' });
  });

  it('bash: output over the cap keeps head and tail with a cut marker', async () => {
    const result = await bash(newSessionId(), 'seq 1 100000');
    expect(result.isError).toBe(false);
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    expect(result.output.startsWith('1\n2\n3\n')).toBe(true);
    expect(result.output.endsWith('99999\n100000')).toBe(true);
    expect(result.output).toMatch(/\[\.\.\. \d+ bytes of output cut here \.\.\.\]/);
  });

  it('bash: the working directory and exported variables carry over, and `restart` forgets them', async () => {
    const sessionId = newSessionId();
    await bash(sessionId, 'mkdir -p sub && cd sub && export GREETING=hi');
    expect((await bash(sessionId, 'pwd; echo $GREETING')).output).toBe('/workspace/sub\nhi');
    expect(await sandbox.activities.execute({ sessionId, name: 'bash', input: { restart: true } })).toEqual({
      isError: false,
      output: 'bash session restarted',
    });
    expect((await bash(sessionId, 'pwd; echo "[$GREETING]"')).output).toBe('/workspace\n[]');
  });

  it('bash: a background process does not hold the call open', async () => {
    const started = Date.now();
    const result = await bash(newSessionId(), 'sleep 20 & echo started');
    expect(result).toEqual({ isError: false, output: 'started' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('bash: a missing command is an input error', async () => {
    const result = await sandbox.activities.execute({ sessionId: newSessionId(), name: 'bash', input: {} });
    expect(result).toEqual({ isError: true, output: 'bash: command is required' });
  });

  it('bash: a command past timeout_ms is reported as timed out and its processes are gone', async () => {
    const sessionId = newSessionId();
    const started = Date.now();
    const result = await bash(sessionId, 'echo before; sleep 30', { timeout_ms: 1000 });
    expect(result.isError).toBe(true);
    // Bash may report its killed child (`Terminated`) before it is killed itself.
    expect(result.output).toMatch(/^before\n(Terminated\n)?bash: command timed out after 1000ms$/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await processes(sessionId)).not.toContain('sleep 30');
  });
});

describe('execute: file tools', () => {
  it('write, read, edit, glob and grep work on files in /workspace', async () => {
    const sessionId = newSessionId();
    const run = (name: string, input: Record<string, unknown>): Promise<ExecuteResult> =>
      sandbox.activities.execute({ sessionId, name, input });

    expect(await run('write', { file_path: 'src/notes.txt', content: 'alpha\nbeta\ngamma\n' })).toEqual({
      isError: false,
      output: 'wrote 17 bytes to src/notes.txt',
    });
    expect(await run('read', { file_path: 'src/notes.txt' })).toEqual({
      isError: false,
      output: 'alpha\nbeta\ngamma\n',
    });
    expect(await run('read', { file_path: '/workspace/src/notes.txt', view_range: [2, 3] })).toEqual({
      isError: false,
      output: 'beta\ngamma',
    });
    expect(await run('edit', { file_path: 'src/notes.txt', old_string: 'beta', new_string: 'BETA' })).toEqual({
      isError: false,
      output: 'edited src/notes.txt (1 replacement(s))',
    });
    expect(await run('edit', { file_path: 'src/notes.txt', old_string: 'a\n', new_string: 'A\n' })).toEqual({
      isError: true,
      output: 'edit: old_string appears 2 times in src/notes.txt (must be unique)',
    });
    expect(await run('read', { file_path: 'src/notes.txt' })).toEqual({
      isError: false,
      output: 'alpha\nBETA\ngamma\n',
    });

    await run('write', { file_path: 'src/deep/code.py', content: 'print("BETA")\n' });
    expect(await run('glob', { pattern: '**/*.{txt,py}' })).toEqual({
      isError: false,
      output: expect.stringMatching(
        /^\/workspace\/src\/(deep\/code\.py\n\/workspace\/src\/notes\.txt|notes\.txt\n\/workspace\/src\/deep\/code\.py)$/,
      ),
    });
    expect(await run('glob', { pattern: '*.txt', path: 'src' })).toEqual({
      isError: false,
      output: '/workspace/src/notes.txt',
    });
    expect(await run('glob', { pattern: '*.md' })).toEqual({ isError: false, output: 'no matches' });
    expect(await run('grep', { pattern: 'BE.A', path: 'src/notes.txt' })).toEqual({
      isError: false,
      output: '2:BETA\n',
    });
    const grep = await run('grep', { pattern: 'BETA' });
    expect(grep.isError).toBe(false);
    expect(grep.output.split('\n').sort()).toEqual([
      '',
      '/workspace/src/deep/code.py:1:print("BETA")',
      '/workspace/src/notes.txt:2:BETA',
    ]);
    expect(await run('grep', { pattern: 'delta' })).toEqual({ isError: false, output: 'no matches' });
    expect(await run('read', { file_path: 'missing.txt' })).toEqual({
      isError: true,
      output: 'read: missing.txt: no such file or directory',
    });

    // The files are really in /workspace, owned by the sandbox user.
    expect(await execInSandbox(docker, sessionId, ['stat', '-c', '%u %n', '/workspace/src/notes.txt'])).toBe(
      '1000 /workspace/src/notes.txt\n',
    );
  });
});

describe('execute: cancellation and dead containers', () => {
  it('execute: cancelling the Activity during `sleep 60` rejects with a cancellation and kills the command', async () => {
    const sessionId = newSessionId();
    await sandbox.activities.provisionSandbox({ sessionId });
    const environment = new MockActivityEnvironment();
    let heartbeats = 0;
    environment.on('heartbeat', () => heartbeats++);
    const running = environment.run(sandbox.activities.execute, {
      sessionId,
      name: 'bash',
      input: { command: 'sleep 60' },
    });
    const outcome = running.then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    await sleep(1000);
    expect(await processes(sessionId)).toContain('sleep 60');
    environment.cancel();
    const settled = await outcome;
    expect('error' in settled && settled.error).toBeInstanceOf(CancelledFailure);
    expect(heartbeats).toBeGreaterThan(2);
    await expectProcessGone(sessionId, 'sleep 60', 3000);
  });

  it('execute: after the container is killed between calls, the next call gets a new container with the same /workspace', async () => {
    const sessionId = newSessionId();
    const first = await sandbox.activities.provisionSandbox({ sessionId });
    await sandbox.activities.execute({
      sessionId,
      name: 'write',
      input: { file_path: 'keep.txt', content: 'still here' },
    });
    await docker.getContainer(first.containerId).kill();
    await docker.getContainer(first.containerId).wait();

    expect(await sandbox.activities.execute({ sessionId, name: 'read', input: { file_path: 'keep.txt' } })).toEqual({
      isError: false,
      output: 'still here',
    });
    const second = await sandbox.activities.provisionSandbox({ sessionId });
    expect(second.created).toBe(false);
    expect(second.containerId).not.toBe(first.containerId);
  });

  it('execute: a container killed during `sleep 30` yields the "stopped" tool error, not a throw', async () => {
    const sessionId = newSessionId();
    const { containerId } = await sandbox.activities.provisionSandbox({ sessionId });
    const running = bash(sessionId, 'sleep 30');
    await sleep(1000);
    await docker.getContainer(containerId).kill();
    const result = await running;
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(
      /^The sandbox container stopped while running this command \(.+\); the next tool call starts a new container with the same \/workspace\.$/,
    );
    expect(await bash(sessionId, 'echo back')).toEqual({ isError: false, output: 'back' });
  });
});
