import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';

import { capOutput, cutMarker } from '../activities/sandbox/cap-output';
import { OutputCollector } from '../activities/sandbox/output-collector';
import { SentinelScanner } from '../activities/sandbox/sentinel-scanner';
import { SANDBOX_TOOL_DEFINITIONS } from '../activities/sandbox/tool-definitions';
import { toolOutputPath } from '../activities/sandbox/tool-output-path';
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

/** Where the sandbox saves a tool call's whole output when it is over the cap. */
const TOOL_OUTPUT_DIR = '/workspace/.keel/tool-output';

/** The cut marker of an output, with its byte count and its note. */
const CUT_MARKER = /\n\[\.\.\. (\d+) bytes of output cut here; (.+) \.\.\.\]\n/;

/** What `seq 1 count` prints. */
function sequence(count: number): string {
  return Array.from({ length: count }, (_, index) => `${index + 1}\n`).join('');
}

/** The SHA-256 of `text` as UTF-8, in hex, as `sha256sum` prints it. */
function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The SHA-256 of a file in the session's container, read with a plain `docker exec` (not through the tools). */
async function sha256InSandbox(sessionId: string, path: string): Promise<string> {
  return (await execInSandbox(docker, sessionId, ['sha256sum', path])).split(' ')[0] ?? '';
}

/** Whether a path exists in the session's container, checked with a plain `docker exec`. */
async function existsInSandbox(sessionId: string, path: string): Promise<boolean> {
  return (
    (await execInSandbox(docker, sessionId, ['sh', '-c', 'test -e "$1" && echo yes || echo no', 'sh', path])) ===
    'yes\n'
  );
}

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

  it('capOutput: a note goes into the cut marker, and the capped text still fits the cap', () => {
    const capped = capOutput('x'.repeat(1000), 200, 0, 'the whole output is in /workspace/out.txt');
    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(200);
    const cut = Number(CUT_MARKER.exec(capped)?.[1]);
    expect(capped).toContain(cutMarker(cut, 'the whole output is in /workspace/out.txt'));
    expect(cutMarker(12, 'note')).toBe('\n[... 12 bytes of output cut here; note ...]\n');
    expect(capOutput('short', 200, 0, 'unused')).toBe('short');
  });

  it('toolOutputPath: keeps [A-Za-z0-9_-] of the name, replaces the rest, and falls back to a random name', () => {
    expect(toolOutputPath('toolu_01AbC-9')).toBe(`${TOOL_OUTPUT_DIR}/toolu_01AbC-9.txt`);
    expect(toolOutputPath('../../etc/passwd x')).toBe(`${TOOL_OUTPUT_DIR}/______etc_passwd_x.txt`);
    expect(toolOutputPath(undefined)).toMatch(/^\/workspace\/\.keel\/tool-output\/output-[0-9a-f]{16}\.txt$/);
    expect(toolOutputPath('')).toMatch(/^\/workspace\/\.keel\/tool-output\/output-[0-9a-f]{16}\.txt$/);
    expect(toolOutputPath('')).not.toBe(toolOutputPath(''));
    expect(toolOutputPath('a'.repeat(500))).toBe(`${TOOL_OUTPUT_DIR}/${'a'.repeat(128)}.txt`);
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
    // Without an outputName, the whole output is saved under a random name.
    expect(CUT_MARKER.exec(result.output)?.[2]).toMatch(
      /^the whole output is in \/workspace\/\.keel\/tool-output\/output-[0-9a-f]{16}\.txt$/,
    );
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

  it('bash: a background process does not hold the call open, and is stopped when the call ends', async () => {
    const started = Date.now();
    const result = await bash(newSessionId(), 'sleep 20 & echo started');
    expect(result).toEqual({
      isError: false,
      output: 'started\nkeel: 1 background process the command left running stopped when it ended.',
    });
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

describe('execute: output over the cap', () => {
  it('bash: a 200 KB output gives head, tail and the path of a file that holds exactly the whole output', async () => {
    const sessionId = newSessionId();
    const path = `${TOOL_OUTPUT_DIR}/toolu_01Big.txt`;
    const whole = `${sequence(40_000)}finished\n`;
    expect(Buffer.byteLength(whole)).toBeGreaterThan(200_000);
    const result = await sandbox.activities.execute({
      sessionId,
      name: 'bash',
      input: { command: 'seq 1 40000; echo finished >&2' },
      outputName: 'toolu_01Big',
    });
    expect(result.isError).toBe(false);
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    expect(result.output.startsWith('1\n2\n3\n')).toBe(true);
    expect(result.output.endsWith('39999\n40000\nfinished')).toBe(true);
    const [marker, cut, note] = CUT_MARKER.exec(result.output) ?? [];
    expect(note).toBe(`the whole output is in ${path}`);
    // Head and tail plus the cut bytes are the whole output (less the final newline, which the tool trims).
    const kept = Buffer.byteLength(result.output.replace(marker ?? '', ''));
    expect(kept + Number(cut)).toBe(Buffer.byteLength(whole) - 1);

    expect(await sha256InSandbox(sessionId, path)).toBe(sha256(whole));
    expect(await execInSandbox(docker, sessionId, ['stat', '-c', '%u:%g %a', path])).toBe('1000:1000 644\n');
    expect(await bash(sessionId, `wc -c < ${path}; tail -n 2 ${path}`)).toEqual({
      isError: false,
      output: `${Buffer.byteLength(whole)}\n40000\nfinished`,
    });
    expect(
      await sandbox.activities.execute({
        sessionId,
        name: 'read',
        input: { file_path: path, view_range: [40_000, 40_001] },
      }),
    ).toEqual({ isError: false, output: '40000\nfinished' });

    // A retried call (same tool_use id) returns the recorded result and does not run again: the file is unchanged.
    const retried = await sandbox.activities.execute({
      sessionId,
      name: 'bash',
      input: { command: 'seq 1 40000; echo finished >&2' },
      outputName: 'toolu_01Big',
    });
    expect(retried).toEqual(result);
    expect(await sha256InSandbox(sessionId, path)).toBe(sha256(whole));
  });

  it('bash: an output within the cap is returned whole and writes no file', async () => {
    const sessionId = newSessionId();
    const result = await sandbox.activities.execute({
      sessionId,
      name: 'bash',
      input: { command: 'seq 1 100' },
      outputName: 'toolu_small',
    });
    expect(result).toEqual({ isError: false, output: sequence(100).trimEnd() });
    expect(await existsInSandbox(sessionId, `${TOOL_OUTPUT_DIR}/toolu_small.txt`)).toBe(false);
    expect(await existsInSandbox(sessionId, TOOL_OUTPUT_DIR)).toBe(false);
  });

  it('bash: a failing command over the cap keeps one marker with the path, then its exit status, within the cap', async () => {
    const sessionId = newSessionId();
    const result = await sandbox.activities.execute({
      sessionId,
      name: 'bash',
      input: { command: 'seq 1 5000; exit 3' },
      outputName: 'toolu_failed',
    });
    expect(result.isError).toBe(true);
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    expect(result.output.endsWith('4999\n5000\nexit status 3')).toBe(true);
    expect(result.output.match(/bytes of output cut here/g)).toHaveLength(1);
    expect(CUT_MARKER.exec(result.output)?.[2]).toBe(`the whole output is in ${TOOL_OUTPUT_DIR}/toolu_failed.txt`);
    expect(await sha256InSandbox(sessionId, `${TOOL_OUTPUT_DIR}/toolu_failed.txt`)).toBe(sha256(sequence(5000)));
  });

  it('grep: matches over the cap give head, tail and the path of a file with every match', async () => {
    const sessionId = newSessionId();
    await bash(sessionId, "seq 1 3000 | sed 's/^/match /' > many.txt");
    const result = await sandbox.activities.execute({
      sessionId,
      name: 'grep',
      input: { pattern: 'match', path: 'many.txt' },
      outputName: 'toolu_grep',
    });
    expect(result.isError).toBe(false);
    expect(result.output.startsWith('1:match 1\n')).toBe(true);
    expect(result.output.endsWith('3000:match 3000\n')).toBe(true);
    expect(CUT_MARKER.exec(result.output)?.[2]).toBe(`the whole output is in ${TOOL_OUTPUT_DIR}/toolu_grep.txt`);
    const lines = Array.from({ length: 3000 }, (_, index) => `${index + 1}:match ${index + 1}\n`).join('');
    expect(await sha256InSandbox(sessionId, `${TOOL_OUTPUT_DIR}/toolu_grep.txt`)).toBe(sha256(lines));
  });

  it('read: a file over the cap is cut with a marker that says to read it in parts, and no copy is saved', async () => {
    const sessionId = newSessionId();
    await bash(sessionId, 'seq 1 3000 > big.txt');
    const result = await sandbox.activities.execute({
      sessionId,
      name: 'read',
      input: { file_path: 'big.txt' },
      outputName: 'toolu_read',
    });
    expect(result.isError).toBe(false);
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    expect(CUT_MARKER.exec(result.output)?.[2]).toBe(
      'read /workspace/big.txt in smaller parts with view_range to see them',
    );
    expect(await existsInSandbox(sessionId, TOOL_OUTPUT_DIR)).toBe(false);
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
    await sleep(2_500);
    expect(await processes(sessionId)).toContain('sleep 60');
    environment.cancel();
    const settled = await outcome;
    expect('error' in settled && settled.error).toBeInstanceOf(CancelledFailure);
    // One a second while it ran (none at the start: a call that ends sooner costs Temporal no heartbeat).
    expect(heartbeats).toBeGreaterThanOrEqual(2);
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
      /^The sandbox container stopped while running this command \(.+\), so it was interrupted and is not run again; the next tool call starts a new container with the same \/workspace\.$/,
    );
    expect(await bash(sessionId, 'echo back')).toEqual({ isError: false, output: 'back' });
  });
});
