import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { removeOrphanSandboxes } from '../activities/sandbox/remove-orphan-sandboxes';
import { removeOrphanWorkspaceDisks } from '../activities/sandbox/remove-orphan-workspace-disks';
import { WarmPool } from '../activities/sandbox/warm-pool';
import {
  checkWorkspaceDisks,
  createWorkspaceDisk,
  releaseWorkspaceDisk,
  workspaceDiskFiles,
} from '../activities/sandbox/workspace-disk';
import { parseConfig } from '../common/config';
import { sandboxContainerName, sandboxVolumeName } from '../common/sandbox';
import { useSandboxFixture } from './support/sandbox-fixture';
import { sdkClient, untilLog } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { startWorkerProcess } from './support/worker-process';

const QUOTA_BYTES = 64 * 1024 * 1024;
const MAX_OUTPUT_BYTES = 30_000;

let harness: TestStack;
let client: Anthropic;
let agentId: string;
let environmentId: string;
/** The stack's worker, a process of its own: the tests kill it, and measure its memory. */
let worker: ChildProcess;
const children: ChildProcess[] = [];
const diskDirectory = mkdtempSync(path.join(tmpdir(), 'keel-disks-'));
// The Activities alone (no Temporal) on disks of their own folder, owned by a cluster of this file only.
const activityDisks = mkdtempSync(path.join(tmpdir(), 'keel-disks-'));
const cluster = `disk-quota-${randomBytes(4).toString('hex')}`;
const sandbox = useSandboxFixture('disk', {
  workspaceDisk: { quotaBytes: QUOTA_BYTES, directory: activityDisks },
  owner: { cluster, worker: 'disk-quota-test' },
});

beforeAll(async () => {
  harness = await startTestStack({
    environment: {
      KEEL_SANDBOX_DISK_QUOTA: '64M',
      KEEL_SANDBOX_DISK_DIR: diskDirectory,
      KEEL_TOOL_OUTPUT_MAX_BYTES: String(MAX_OUTPUT_BYTES),
    },
    runWorker: false,
  });
  worker = await startWorkerProcess(harness.workerEnvironment, children);
  client = sdkClient(harness.stack.apiUrl);
  agentId = (
    await client.beta.agents.create({
      name: 'disk quota',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
    })
  ).id;
  environmentId = (await client.beta.environments.create({ name: 'disk quota', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  await harness?.stop();
  rmSync(diskDirectory, { recursive: true, force: true });
  rmSync(activityDisks, { recursive: true, force: true });
});

/** Runs one turn whose model makes one bash call running `command`; resolves with that call's result text. */
async function bashTurn(sessionId: string, command: string, timeoutMs = 60_000): Promise<string> {
  harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command } }, { kind: 'text', text: 'ok' });
  const sent = await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: command }] }],
  });
  const id = sent.data?.[0]?.id;
  const events = await untilLog(
    client,
    sessionId,
    (all) => {
      const start = all.findIndex((event) => event.id === id);
      return start >= 0 && all.slice(start).some((event) => event.type === 'session.status_idle');
    },
    { timeoutMs, what: `the idle after ${command}` },
  );
  const result = events.slice(events.findIndex((event) => event.id === id)).find((e) => e.type === 'agent.tool_result');
  if (result?.type !== 'agent.tool_result') throw new Error(`no tool result for ${command}`);
  return (result.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/** Resolves when `child` has exited. */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** The resident memory of process `pid`, in bytes (`VmRSS` of `/proc/<pid>/status`). */
function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Bytes free on the file system that holds `folder`, for an unprivileged user. */
async function freeBytes(folder: string): Promise<number> {
  const stats = await statfs(folder);
  return stats.bavail * stats.bsize;
}

/** The loop devices attached to `image` (`losetup --associated`), by name. */
function loopDevicesOf(image: string): string[] {
  return execFileSync('losetup', ['--noheadings', '--output', 'NAME', '--associated', image], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** The lines of the host's mount table that mention `text`. */
function mountsMentioning(text: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(text));
}

async function newSession(): Promise<string> {
  return (await client.beta.sessions.create({ agent: agentId, environment_id: environmentId })).id;
}

describe('workspace disk quota (KEEL_SANDBOX_DISK_QUOTA=64M)', () => {
  it('bash: writing past the quota fails with "No space left on device" and spares the host; the workspace outlives a worker crash and its container, and goes with its session', async () => {
    const sessionId = await newSession();
    const size = Number(await bashTurn(sessionId, 'df -B1 --output=size /workspace | tail -n 1'));
    // ext4 keeps a few MB of the image for its journal and tables; no block is reserved for root.
    expect(size).toBeGreaterThan(0.8 * QUOTA_BYTES);
    expect(size).toBeLessThanOrEqual(QUOTA_BYTES);
    const volume = sandboxVolumeName(sessionId);
    const { image, link } = workspaceDiskFiles(diskDirectory, volume);
    const [device] = loopDevicesOf(image);
    expect(device).toMatch(/^\/dev\/loop\d+$/);

    const freeBefore = await freeBytes(diskDirectory);
    const flood = await bashTurn(sessionId, 'dd if=/dev/zero of=/workspace/big bs=1M count=200; echo "dd status $?"');
    const freeAfter = await freeBytes(diskDirectory);
    expect(flood).toContain('No space left on device');
    expect(flood).toContain('dd status 1');
    // The host lost at most the image's size, never the 200 MB dd asked for.
    expect(freeBefore - freeAfter).toBeLessThan(QUOTA_BYTES + 8 * 1024 * 1024);

    expect(await bashTurn(sessionId, 'rm /workspace/big && echo kept > /workspace/kept.txt && echo written')).toBe(
      'written',
    );

    // The worker crashes; the next one finds the disk as it was (image, loop device, volume).
    worker.kill('SIGKILL');
    await exited(worker);
    worker = await startWorkerProcess(harness.workerEnvironment, children);
    expect(await bashTurn(sessionId, 'cat /workspace/kept.txt')).toBe('kept');
    expect(loopDevicesOf(image)).toEqual([device]);

    // A dead container is replaced by a new one on the same workspace (cattle, not pets).
    const container = harness.docker.getContainer(sandboxContainerName(sessionId));
    const firstId = (await container.inspect()).Id;
    await container.remove({ force: true });
    expect(
      await bashTurn(sessionId, 'cat /workspace/kept.txt && df -B1 --output=size /workspace | tail -n 1 | tr -d " "'),
    ).toBe(`kept\n${size}`);
    expect((await container.inspect()).Id).not.toBe(firstId);

    await client.beta.sessions.delete(sessionId);
    for (let attempt = 0; attempt < 300 && existsSync(image); attempt++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(image)).toBe(false);
    expect(existsSync(link)).toBe(false);
    expect(execFileSync('losetup', ['--list', '--noheadings'], { encoding: 'utf8' })).not.toContain(image);
    expect(mountsMentioning(volume)).toEqual([]);
    expect(mountsMentioning(`${device ?? 'no device'} `)).toEqual([]);
    await expect(harness.docker.getVolume(volume).inspect()).rejects.toThrow();
  });

  it('bash: a command that prints 2 GB gets a capped result, the session goes on, and the worker memory stays bounded', async () => {
    const sessionId = await newSession();
    expect(await bashTurn(sessionId, 'echo ready')).toBe('ready');
    const pid = worker.pid ?? 0;
    const baseline = residentBytes(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytes(pid));
    }, 50);
    const started = performance.now();
    let flood: string;
    try {
      flood = await bashTurn(sessionId, "head -c 2G /dev/zero | tr '\\0' a; echo; echo flood ended", 300_000);
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `2 GiB flood: ${seconds.toFixed(1)} s, worker process RSS ${Math.round(baseline / 2 ** 20)} MiB before, ` +
        `peak ${Math.round(peak / 2 ** 20)} MiB (+${Math.round((peak - baseline) / 2 ** 20)} MiB)`,
    );
    expect(Buffer.byteLength(flood)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES + 1024);
    expect(flood).toMatch(/^a{1000}/);
    expect(flood).toMatch(/\[\.\.\. \d+ bytes of output cut here/);
    expect(flood).toContain('flood ended');
    expect(peak - baseline).toBeLessThan(200 * 1024 * 1024);
    expect(await bashTurn(sessionId, 'echo next')).toBe('next');
  });
});

describe('workspace disks of the sandbox Activities', () => {
  it('provisionSandbox: after a host reboot (loop devices gone, the old number holding another file) a new container gets its own image back', async () => {
    const sessionId = sandbox.newSessionId();
    expect(await sandbox.bash(sessionId, 'echo mine > /workspace/owner.txt && echo ok')).toEqual({
      isError: false,
      output: 'ok',
    });
    const { image } = workspaceDiskFiles(activityDisks, sandboxVolumeName(sessionId));
    const [device] = loopDevicesOf(image);
    if (device === undefined) throw new Error('the workspace image is not attached');
    // The reboot: the container is gone, the loop device detached, and its number taken by another image.
    await sandbox.docker.getContainer(sandboxContainerName(sessionId)).remove({ force: true });
    execFileSync('losetup', ['--detach', device]);
    const decoy = await createWorkspaceDisk({ quotaBytes: QUOTA_BYTES, directory: activityDisks }, 'decoy');
    const decoyImage = decoy.labels['dev.keel.workspace-disk'] ?? '';
    try {
      for (const other of loopDevicesOf(decoyImage)) execFileSync('losetup', ['--detach', other]);
      execFileSync('losetup', [device, decoyImage]);

      expect(await sandbox.bash(sessionId, 'cat /workspace/owner.txt')).toEqual({ isError: false, output: 'mine' });
      expect(loopDevicesOf(image)).toHaveLength(1);
      expect(loopDevicesOf(image)).not.toContain(device);
    } finally {
      await releaseWorkspaceDisk(decoyImage);
    }
  });

  it('removeOrphanSandboxes: an ended session loses its disk image and loop device with its volume', async () => {
    const sessionId = sandbox.newSessionId();
    expect((await sandbox.bash(sessionId, 'df -B1 --output=size /workspace | tail -n 1')).output.trim()).toMatch(
      /^\d+$/,
    );
    const { image, link } = workspaceDiskFiles(activityDisks, sandboxVolumeName(sessionId));
    expect(loopDevicesOf(image)).toHaveLength(1);

    const removed = await removeOrphanSandboxes(sandbox.docker, cluster, (id) => Promise.resolve(id !== sessionId));
    expect(removed.sessions).toEqual([sessionId]);
    expect(existsSync(image)).toBe(false);
    expect(existsSync(link)).toBe(false);
    expect(execFileSync('losetup', ['--list', '--noheadings'], { encoding: 'utf8' })).not.toContain(image);
  });

  it('removeOrphanWorkspaceDisks: an old image no volume names goes, a deleted image loses its loop device, a live session keeps its disk', async () => {
    const sessionId = sandbox.newSessionId();
    expect(await sandbox.bash(sessionId, 'echo live > /workspace/live.txt && echo ok')).toEqual({
      isError: false,
      output: 'ok',
    });
    const live = workspaceDiskFiles(activityDisks, sandboxVolumeName(sessionId)).image;
    const disk = { quotaBytes: QUOTA_BYTES, directory: activityDisks };
    // A worker killed between the image and its volume left this one an hour ago.
    const orphan = (await createWorkspaceDisk(disk, 'keel-orphan-workspace')).labels['dev.keel.workspace-disk'] ?? '';
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(orphan, anHourAgo, anHourAgo);
    // A fresh one may be a creation in progress.
    const young = (await createWorkspaceDisk(disk, 'keel-young-workspace')).labels['dev.keel.workspace-disk'] ?? '';
    // Its folder was removed while it was attached.
    const gone = (await createWorkspaceDisk(disk, 'keel-gone-workspace')).labels['dev.keel.workspace-disk'] ?? '';
    const [goneDevice] = loopDevicesOf(gone);
    rmSync(gone);
    try {
      const removed = await removeOrphanWorkspaceDisks(sandbox.docker, activityDisks);
      expect(removed.images).toBe(1);
      expect(removed.loopDevices).toBeGreaterThanOrEqual(1);
      expect(existsSync(orphan)).toBe(false);
      expect(execFileSync('losetup', ['--list', '--noheadings'], { encoding: 'utf8' })).not.toContain(orphan);
      expect(execFileSync('losetup', ['--list', '--noheadings'], { encoding: 'utf8' })).not.toContain(gone);
      expect(existsSync(young)).toBe(true);
      expect(loopDevicesOf(live)).toHaveLength(1);
      expect(await sandbox.bash(sessionId, 'cat /workspace/live.txt')).toEqual({ isError: false, output: 'live' });
      expect(goneDevice).toMatch(/^\/dev\/loop\d+$/);
    } finally {
      await releaseWorkspaceDisk(young);
    }
  });

  it('WarmPool: a warm container has a disk of the quota, kept by the session that claims it and released with an unclaimed one', async () => {
    const pool = new WarmPool({ sandbox: sandbox.options, size: 1 });
    const sessionId = sandbox.newSessionId();
    try {
      pool.fill();
      for (let attempt = 0; pool.stats().ready < 1; attempt++) {
        if (attempt > 300) throw new Error('the warm pool never got a container ready');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await pool.claim(sessionId)).toBeDefined();
      const size = Number((await sandbox.bash(sessionId, 'df -B1 --output=size /workspace | tail -n 1')).output);
      expect(size).toBeGreaterThan(0.8 * QUOTA_BYTES);
      expect(size).toBeLessThanOrEqual(QUOTA_BYTES);
      for (let attempt = 0; pool.stats().ready < 1; attempt++) {
        if (attempt > 300) throw new Error('the warm pool never refilled');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await pool.close();
    }
    await sandbox.activities.destroySandbox({ sessionId, removeVolume: true });
    // The claimed container's disk went with its session, the unclaimed one's with the pool.
    expect(readdirSync(activityDisks).filter((name) => name.startsWith('keel-warm-'))).toEqual([]);
    expect(execFileSync('losetup', ['--list', '--noheadings'], { encoding: 'utf8' })).not.toContain(activityDisks);
  });
});

describe('KEEL_SANDBOX_DISK_QUOTA', () => {
  it('parseConfig: 10 GiB in KEEL_DATA_DIR/workspace-disks by default; sizes with binary units; off; a bad value is named', () => {
    expect(parseConfig({ KEEL_DATA_DIR: '/data' }).sandbox.disk).toEqual({
      quotaBytes: 10 * 1024 ** 3,
      directory: '/data/workspace-disks',
    });
    const small = parseConfig({ KEEL_SANDBOX_DISK_QUOTA: '64M', KEEL_SANDBOX_DISK_DIR: '/disks' }).sandbox.disk;
    expect(small).toEqual({ quotaBytes: QUOTA_BYTES, directory: '/disks' });
    expect(parseConfig({ KEEL_SANDBOX_DISK_QUOTA: '1.5GiB' }).sandbox.disk?.quotaBytes).toBe(1.5 * 1024 ** 3);
    expect(parseConfig({ KEEL_SANDBOX_DISK_QUOTA: 'off' }).sandbox.disk).toBeUndefined();
    expect(() => parseConfig({ KEEL_SANDBOX_DISK_QUOTA: '1M' })).toThrow(/KEEL_SANDBOX_DISK_QUOTA: expected a size/);
    expect(() => parseConfig({ KEEL_SANDBOX_DISK_QUOTA: 'lots' })).toThrow(/KEEL_SANDBOX_DISK_QUOTA/);
  });

  it('checkWorkspaceDisks: a host where no disk can be made stops the worker with the way out', async () => {
    await expect(
      checkWorkspaceDisks({ quotaBytes: QUOTA_BYTES, directory: '/etc/hostname/keel-disks' }),
    ).rejects.toThrow(
      /^KEEL_SANDBOX_DISK_QUOTA: this worker cannot give sandbox workspaces a disk quota .*KEEL_SANDBOX_DISK_QUOTA=off/s,
    );
    await expect(checkWorkspaceDisks({ quotaBytes: QUOTA_BYTES, directory: activityDisks })).resolves.toBeUndefined();
    expect(readdirSync(activityDisks).filter((name) => name.startsWith('keel-disk-check-'))).toEqual([]);
  });
});
