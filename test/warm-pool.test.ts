import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import type Anthropic from '@anthropic-ai/sdk';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionSandbox } from '../activities/sandbox/provision-sandbox';
import { countOwnSandboxes } from '../activities/sandbox/count-own-sandboxes';
import { WARM_WATCHER_GRACE_SECONDS, warmContainerConfig } from '../activities/sandbox/build-container-config';
import { removeWarmContainer, startWarmContainer } from '../activities/sandbox/warm-container';
import { WarmPool } from '../activities/sandbox/warm-pool';
import { warmPoolServes } from '../activities/sandbox/warm-pool-serves';
import { parseConfig } from '../common/config';
import { DEFAULT_SANDBOX_ENVIRONMENT, SANDBOX_LABELS, sandboxClusterLabel } from '../common/sandbox';
import { sandboxContainerName, sandboxVolumeName } from '../common/sandbox';
import { useSandboxFixture } from './support/sandbox-fixture';
import { sdkClient, bashTurn as runBashTurn } from './support/sdk';
import { execInContainer, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { startWorkerProcess } from './support/worker-process';

const IDLE_TIMEOUT_SECONDS = 2;

let harness: TestStack;
let client: Anthropic;
let agentId: string;
let environmentId: string;
let cluster: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  harness = await startTestStack({
    environment: { KEEL_SANDBOX_WARM_POOL: '1', KEEL_SANDBOX_IDLE_TIMEOUT: String(IDLE_TIMEOUT_SECONDS) },
  });
  client = sdkClient(harness.stack.apiUrl);
  cluster = sandboxClusterLabel(harness.config.temporal.namespace, harness.stack.temporalAddress);
  agentId = (
    await client.beta.agents.create({
      name: 'warm pool',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
    })
  ).id;
  environmentId = (await client.beta.environments.create({ name: 'warm pool', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await harness?.stop();
  // What a failed test may have left of this stack's warm pools.
  if (harness !== undefined) await removeWarmSandboxes(harness.docker, cluster);
});

/** The warm containers of `cluster` (of one worker, when given), claimed or not, running or not. */
function warmContainers(docker: Docker, owner: { cluster: string; worker?: string }): Promise<Docker.ContainerInfo[]> {
  const label = [`${SANDBOX_LABELS.cluster}=${owner.cluster}`, SANDBOX_LABELS.warm];
  if (owner.worker !== undefined) label.push(`${SANDBOX_LABELS.worker}=${owner.worker}`);
  return docker.listContainers({ all: true, filters: JSON.stringify({ label }) });
}

/** Whether a warm container is still in its pool: no session renamed it. */
function unclaimed(container: Docker.ContainerInfo): boolean {
  return container.Names.some((name) => name.startsWith('/keel-warm-'));
}

/** Polls (`timeoutMs`, 30 s by default, at most) until `predicate` holds for the owner's warm containers; returns them. */
async function untilWarm(
  owner: { cluster: string; worker?: string },
  predicate: (containers: Docker.ContainerInfo[]) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<Docker.ContainerInfo[]> {
  for (let attempt = 0; attempt < timeoutMs / 100; attempt++) {
    const containers = await warmContainers(harness.docker, owner);
    if (predicate(containers)) return containers;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `<state> <command line>` of every process in container `id` (from `/proc`, read by an exec of its own). */
async function processStates(docker: Docker, id: string): Promise<string[]> {
  const script = 'for p in /proc/[0-9]*; do echo "$(cut -d" " -f3 $p/stat) $(tr "\\0" " " < $p/cmdline)"; done';
  return (await execInContainer(docker, id, ['sh', '-c', script]))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** The running, unclaimed warm containers among `containers`. */
function ready(containers: Docker.ContainerInfo[]): Docker.ContainerInfo[] {
  return containers.filter((container) => unclaimed(container) && container.State === 'running');
}

async function removeWarmSandboxes(docker: Docker, owner: string): Promise<void> {
  for (const container of await warmContainers(docker, { cluster: owner })) {
    await docker
      .getContainer(container.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
  const filters = JSON.stringify({ label: [`${SANDBOX_LABELS.cluster}=${owner}`, SANDBOX_LABELS.warm] });
  for (const volume of (await docker.listVolumes({ filters })).Volumes) {
    await docker
      .getVolume(volume.Name)
      .remove()
      .catch(() => undefined);
  }
}

/** The session's container, found by its name (a claimed warm container has no session label), or `undefined`. */
async function containerOf(sessionId: string): Promise<Docker.ContainerInspectInfo | undefined> {
  return harness.docker
    .getContainer(sandboxContainerName(sessionId))
    .inspect()
    .catch(() => undefined);
}

async function volumeLabels(name: string): Promise<Record<string, string> | undefined> {
  const info = await harness.docker
    .getVolume(name)
    .inspect()
    .catch(() => undefined);
  return info === undefined ? undefined : { ...info.Labels };
}

/** Runs one turn with one bash call; resolves with the call's result, as JSON. */
function bashTurn(sessionId: string, command: string): Promise<string> {
  return runBashTurn(client, harness.model, sessionId, command);
}

/** Resolves when `child` has exited (30 s at most). */
async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the worker process did not exit')), 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('the warm pool on a running Keel', () => {
  it("serves a session's first tool call from a container started before the session, then refills", async () => {
    const inProcess = { cluster, worker: `${process.pid}@${hostname()}` };
    const [warm] = ready(await untilWarm(inProcess, (all) => ready(all).length === 1, 'a ready warm container'));
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });

    expect(await bashTurn(session.id, 'echo first > /workspace/first.txt && id -u')).toContain('1000');
    const container = await containerOf(session.id);
    expect(container?.Id).toBe(warm?.Id);
    expect(Date.parse(container?.State.StartedAt ?? '')).toBeLessThan(Date.parse(session.created_at));
    expect(container?.Config.Labels[SANDBOX_LABELS.warm]).toBe('true');
    // The session's workspace volume points at the claimed container's own volume.
    const workspace = container?.Mounts.find((mount) => mount.Destination === '/workspace')?.Name;
    expect(workspace).toMatch(/^keel-warm-/);
    expect((await volumeLabels(sandboxVolumeName(session.id)))?.[SANDBOX_LABELS.workspaceVolume]).toBe(workspace);

    const [refilled] = ready(
      await untilWarm(inProcess, (all) => ready(all).some((other) => other.Id !== warm?.Id), 'the pool to refill'),
    );
    expect(refilled?.Id).not.toBe(warm?.Id);
    await client.beta.sessions.delete(session.id);
  });

  it('keeps a pooled workspace across an idle stop, starts the next container on it, and the end removes both', async () => {
    const inProcess = { cluster, worker: `${process.pid}@${hostname()}` };
    await untilWarm(inProcess, (all) => ready(all).length === 1, 'a ready warm container');
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    expect(await bashTurn(session.id, 'echo kept > /workspace/keep.txt && echo written')).toContain('written');
    const claimed = await containerOf(session.id);
    expect(claimed?.Config.Labels[SANDBOX_LABELS.warm]).toBe('true');
    const workspace = claimed?.Mounts.find((mount) => mount.Destination === '/workspace')?.Name ?? '';

    for (let attempt = 0; (await containerOf(session.id)) !== undefined; attempt++) {
      if (attempt > 200) throw new Error('the idle container was never stopped');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await volumeLabels(workspace)).toBeDefined();

    expect(await bashTurn(session.id, 'cat /workspace/keep.txt')).toContain('kept');
    const restarted = await containerOf(session.id);
    expect(restarted?.Id).not.toBe(claimed?.Id);
    expect(restarted?.Mounts.find((mount) => mount.Destination === '/workspace')?.Name).toBe(workspace);

    await client.beta.sessions.delete(session.id);
    expect(await containerOf(session.id)).toBeUndefined();
    expect(await volumeLabels(sandboxVolumeName(session.id))).toBeUndefined();
    expect(await volumeLabels(workspace)).toBeUndefined();
  });

  it("a killed worker's warm containers stop, and the next worker removes them; a pool of 0 starts none", async () => {
    const killed = await startWorkerProcess({ ...harness.workerEnvironment, KEEL_SANDBOX_WARM_POOL: '2' }, children);
    const killedOwner = { cluster, worker: `${killed.pid}@${hostname()}` };
    const started = await untilWarm(killedOwner, (all) => ready(all).length === 2, "the first worker's pool");
    killed.kill('SIGKILL');
    await exited(killed);
    // A container whose watcher had not arrived when the worker died stops by itself after its grace.
    await untilWarm(
      killedOwner,
      (all) => all.every((one) => one.State !== 'running'),
      'the watchers to stop them',
      (WARM_WATCHER_GRACE_SECONDS + 30) * 1000,
    );

    const next = await startWorkerProcess({ ...harness.workerEnvironment, KEEL_SANDBOX_WARM_POOL: '0' }, children);
    expect(await warmContainers(harness.docker, killedOwner)).toHaveLength(0);
    for (const container of started) {
      const volume = container.Mounts.find((mount) => mount.Destination === '/workspace')?.Name ?? '';
      expect(await volumeLabels(volume)).toBeUndefined();
    }
    // A pool of 0 starts nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await warmContainers(harness.docker, { cluster, worker: `${next.pid}@${hostname()}` })).toHaveLength(0);
    next.kill('SIGTERM');
    await exited(next);
  });

  it('a worker that starts removes the claimed container and both volumes of a pooled session that ended', async () => {
    const inProcess = { cluster, worker: `${process.pid}@${hostname()}` };
    await untilWarm(inProcess, (all) => ready(all).length === 1, 'a ready warm container');
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    await bashTurn(session.id, 'echo orphan');
    const claimed = await containerOf(session.id);
    expect(claimed?.Config.Labels[SANDBOX_LABELS.warm]).toBe('true');
    const workspace = claimed?.Mounts.find((mount) => mount.Destination === '/workspace')?.Name ?? '';
    // Terminated behind Keel's back: nothing ran its clean-up.
    await harness.stack.temporal.workflow.getHandle(session.id).terminate('simulated crash');

    const next = await startWorkerProcess({ ...harness.workerEnvironment, KEEL_SANDBOX_WARM_POOL: '0' }, children);
    expect(await containerOf(session.id)).toBeUndefined();
    expect(await volumeLabels(sandboxVolumeName(session.id))).toBeUndefined();
    expect(await volumeLabels(workspace)).toBeUndefined();
    next.kill('SIGTERM');
    await exited(next);
  });

  it('a worker that stops removes its warm containers and their volumes', async () => {
    const worker = await startWorkerProcess({ ...harness.workerEnvironment, KEEL_SANDBOX_WARM_POOL: '2' }, children);
    const owner = { cluster, worker: `${worker.pid}@${hostname()}` };
    const started = await untilWarm(owner, (all) => ready(all).length === 2, "the worker's pool");
    worker.kill('SIGTERM');
    await exited(worker);
    expect(await warmContainers(harness.docker, owner)).toHaveLength(0);
    for (const container of started) {
      const volume = container.Mounts.find((mount) => mount.Destination === '/workspace')?.Name ?? '';
      expect(await volumeLabels(volume)).toBeUndefined();
    }
  });
});

describe('the warm pool, Activity by Activity', () => {
  const sandbox = useSandboxFixture('warm', { owner: { cluster: 'warm-pool-test', worker: 'activities' } });

  it('two concurrent provisionings of one session agree on one container, and the pool keeps the other', async () => {
    const pool = new WarmPool({ sandbox: sandbox.options, size: 2 });
    try {
      pool.fill();
      await until(() => pool.stats().ready === 2);
      const sessionId = sandbox.newSessionId();
      const options = { ...sandbox.options, warmPool: pool };
      const [first, second] = await Promise.all([
        provisionSandbox(options, { sessionId }),
        provisionSandbox(options, { sessionId }),
      ]);
      expect(first.containerId).toBe(second.containerId);
      // One claim won (or lost to the other call's normal start); either way one container was replaced.
      await until(() => pool.stats().ready === 2);
      expect(pool.stats().started).toBe(3);
      const info = await sandbox.docker.getContainer(sandboxContainerName(sessionId)).inspect();
      const workspace = info.Mounts.find((mount) => mount.Destination === '/workspace')?.Name;
      const pointer = await sandbox.docker.getVolume(sandboxVolumeName(sessionId)).inspect();
      expect((pointer.Labels as Record<string, string>)[SANDBOX_LABELS.workspaceVolume]).toBe(workspace);
    } finally {
      await pool.close();
    }
    expect((await warmContainers(sandbox.docker, { cluster: 'warm-pool-test' })).filter(unclaimed)).toHaveLength(0);
  });

  it('two sessions provisioned at once from a pool of 1: one gets the warm container, the other starts its own', async () => {
    const pool = new WarmPool({ sandbox: sandbox.options, size: 1 });
    try {
      pool.fill();
      await until(() => pool.stats().ready === 1);
      const sessions = [sandbox.newSessionId(), sandbox.newSessionId()];
      const options = { ...sandbox.options, warmPool: pool };
      const results = await Promise.all(sessions.map((sessionId) => provisionSandbox(options, { sessionId })));
      expect(results[0]?.containerId).not.toBe(results[1]?.containerId);
      expect(pool.stats().claimed).toBe(1);
      const warmLabels = await Promise.all(
        sessions.map(async (sessionId) => {
          const info = await sandbox.docker.getContainer(sandboxContainerName(sessionId)).inspect();
          return info.Config.Labels[SANDBOX_LABELS.warm];
        }),
      );
      expect(warmLabels.filter((label) => label === 'true')).toHaveLength(1);
    } finally {
      await pool.close();
    }
  });

  it("counts a worker's sandboxes by state for keel_sandboxes: warm, then claimed and running, then stopped", async () => {
    const options = { ...sandbox.options, owner: { cluster: 'warm-pool-test', worker: 'counted' } };
    const pool = new WarmPool({ sandbox: options, size: 1 });
    try {
      pool.fill();
      await until(() => pool.stats().ready === 1);
      expect(await countOwnSandboxes(sandbox.docker, 'counted')).toEqual({ running: 0, warm: 1, stopped: 0 });
      const sessionId = sandbox.newSessionId();
      await provisionSandbox({ ...options, warmPool: pool }, { sessionId });
      expect(pool.stats().claimed).toBe(1);
      // The claimed container counts as running; the pool refills with a new warm one.
      await until(() => pool.stats().ready === 1);
      expect(await countOwnSandboxes(sandbox.docker, 'counted')).toEqual({ running: 1, warm: 1, stopped: 0 });
      await sandbox.docker.getContainer(sandboxContainerName(sessionId)).stop({ t: 0 });
      expect(await countOwnSandboxes(sandbox.docker, 'counted')).toEqual({ running: 0, warm: 1, stopped: 1 });
      // Another worker's containers are not counted.
      expect(await countOwnSandboxes(sandbox.docker, 'someone-else')).toEqual({ running: 0, warm: 0, stopped: 0 });
    } finally {
      await pool.close();
    }
  });

  it('a warm container whose watcher never arrives (its worker killed right after the start) stops by itself; one whose watcher arrived outlives that grace', async () => {
    const name = `keel-warm-orphan-${sandbox.newSessionId().slice(-8)}`;
    const orphan = await sandbox.docker.createContainer(
      warmContainerConfig(sandbox.options, name, `${name}-workspace`, undefined, 2),
    );
    const watched = await startWarmContainer(sandbox.options, 2);
    try {
      await orphan.start();
      const orphanStarted = Date.now();
      for (let attempt = 0; (await orphan.inspect()).State.Running; attempt++) {
        if (attempt > 150) throw new Error('the warm container with no watcher was still running after 15 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(Date.now() - orphanStarted).toBeGreaterThanOrEqual(1_500);
      // The watched one started at about the same time and is still running, past its 2 s grace.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect((await sandbox.docker.getContainer(watched.id).inspect()).State.Running).toBe(true);
      expect(watched.ended).toBe(false);
      // Its main shell reaped its timer before it became `sleep infinity`: no zombie holds a slot of the pids limit.
      const states = await processStates(sandbox.docker, watched.id);
      expect(states).toContainEqual(expect.stringMatching(/^\S+ sleep infinity$/));
      expect(states.filter((state) => state.startsWith('Z'))).toEqual([]);
      // Its worker goes without a word: the watcher stops it.
      watched.closeWatcher();
      await watched.watcherEnded;
      for (let attempt = 0; (await sandbox.docker.getContainer(watched.id).inspect()).State.Running; attempt++) {
        if (attempt > 150) throw new Error('the watched warm container was still running 15 s after its watcher went');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await removeWarmContainer(sandbox.docker, { id: orphan.id, volume: `${name}-workspace` });
      await removeWarmContainer(sandbox.docker, watched);
    }
    // Asked of each container (inspect), not of the list, whose snapshot of a container can lag its removal.
    for (const id of [orphan.id, watched.id]) {
      await expect(sandbox.docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    }
  });

  it('a pool of 0 starts nothing, and a session claims nothing from it', async () => {
    const pool = new WarmPool({ sandbox: sandbox.options, size: 0 });
    pool.fill();
    const sessionId = sandbox.newSessionId();
    await provisionSandbox({ ...sandbox.options, warmPool: pool }, { sessionId });
    expect(pool.stats()).toEqual({ size: 0, ready: 0, starting: 0, started: 0, claimed: 0 });
    await pool.close();
    const info = await sandbox.docker.getContainer(sandboxContainerName(sessionId)).inspect();
    expect(info.Config.Labels[SANDBOX_LABELS.warm]).toBeUndefined();
  });

  it('serves only sessions with no packages, no network and no files', () => {
    const base = DEFAULT_SANDBOX_ENVIRONMENT;
    expect(warmPoolServes([], base)).toBe(true);
    expect(warmPoolServes([{ fileId: 'file_1', mountPath: '/data/a.txt' }], base)).toBe(false);
    expect(warmPoolServes([], { ...base, packages: { apt: [], pip: ['requests'], npm: [] } })).toBe(false);
    expect(warmPoolServes([], { ...base, networking: { type: 'unrestricted' } })).toBe(false);
    const limited = { type: 'limited' as const, allowedHosts: ['example.com'], allowPackageManagers: false };
    expect(warmPoolServes([], { ...base, networking: { ...limited, allowMcpServers: false } })).toBe(false);
    // MCP servers are reached from the worker: allowing them gives the sandbox no network.
    const mcpOnly = { type: 'limited' as const, allowedHosts: [], allowPackageManagers: false, allowMcpServers: true };
    expect(warmPoolServes([], { ...base, networking: mcpOnly })).toBe(true);
  });

  it('KEEL_SANDBOX_WARM_POOL defaults to 0 and must be a whole number of at least 0', () => {
    expect(parseConfig({}).sandbox.warmPoolSize).toBe(0);
    expect(parseConfig({ KEEL_SANDBOX_WARM_POOL: '3' }).sandbox.warmPoolSize).toBe(3);
    expect(() => parseConfig({ KEEL_SANDBOX_WARM_POOL: '-1' })).toThrow(/KEEL_SANDBOX_WARM_POOL/);
    expect(() => parseConfig({ KEEL_SANDBOX_WARM_POOL: 'many' })).toThrow(/KEEL_SANDBOX_WARM_POOL/);
  });
});

/** Polls (30 s at most) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let attempt = 0; !condition(); attempt++) {
    if (attempt > 300) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
