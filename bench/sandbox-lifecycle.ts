import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import type { KeelClient } from '../client';
import { readConfig } from '../common/config';
import type { SessionEvent } from '../common/events';
import { SANDBOX_LABELS, sandboxClusterLabel, sandboxContainerName } from '../common/sandbox';
import { startBenchStack } from './bench-stack';
import type { BenchStack } from './bench-stack';
import { ms, percentile } from './percentiles';

/** Sessions run before the measured ones, so start-up costs (bundles, first exec) are not counted. */
const WARM_UP_SESSIONS = 2;

/** Latencies of the first tool call of each session, and of the second (its container already running). */
export interface FirstToolCallSamples {
  first: number[];
  second: number[];
}

/**
 * The first sandbox tool call of `sessions` sequential sessions (two `echo step` each), from its `agent.tool_use` to
 * its `agent.tool_result` (Workflow clock): the container start (or warm-pool claim) plus the command; the second
 * call, on the running container, is the baseline. With a pool, each session starts once the pool is full again, as
 * it is when sessions do not arrive back to back.
 */
export async function measureFirstToolCall(warmPoolSize: number, sessions: number): Promise<FirstToolCallSamples> {
  const bench = await startBenchStack({ KEEL_SANDBOX_WARM_POOL: String(warmPoolSize) });
  const docker = new Docker();
  const samples: FirstToolCallSamples = { first: [], second: [] };
  try {
    for (let index = 0; index < sessions + WARM_UP_SESSIONS; index++) {
      if (warmPoolSize > 0) await untilPoolFull(docker, clusterOf(bench), warmPoolSize);
      const session = await bench.client.createSession({ title: `first tool call ${index}` });
      const message = await bench.client.sendMessage(session.id, 'steps:2');
      await bench.client.waitForIdle(session.id, message.id);
      const [first, second] = toolCallsMs(await allEvents(bench.client, session.id));
      if (index >= WARM_UP_SESSIONS && first !== undefined && second !== undefined) {
        samples.first.push(first);
        samples.second.push(second);
      }
      await bench.client.endSession(session.id);
    }
  } finally {
    await bench.stop();
  }
  return samples;
}

/**
 * Starts `sessions` sessions with one tool call each on a Keel whose idle timeout is `idleTimeoutSeconds` (and a warm
 * pool of 1, so pooled and cold sandboxes are both counted), waits `waitSeconds`, and counts the running containers
 * of those sessions: the idle stop should have left none.
 */
export async function countIdleContainers(
  sessions: number,
  idleTimeoutSeconds: number,
  waitSeconds: number,
): Promise<number> {
  const bench = await startBenchStack({
    KEEL_SANDBOX_IDLE_TIMEOUT: String(idleTimeoutSeconds),
    KEEL_SANDBOX_WARM_POOL: '1',
  });
  const docker = new Docker();
  try {
    await untilPoolFull(docker, clusterOf(bench), 1);
    const ids: string[] = [];
    for (let index = 0; index < sessions; index++) {
      const session = await bench.client.createSession({ title: `idle ${index}` });
      const message = await bench.client.sendMessage(session.id, 'steps:1');
      await bench.client.waitForIdle(session.id, message.id);
      ids.push(session.id);
    }
    await sleep(waitSeconds * 1000);
    let running = 0;
    for (const id of ids) {
      const info = await docker
        .getContainer(sandboxContainerName(id))
        .inspect()
        .catch(() => undefined);
      if (info?.State.Running === true) running += 1;
    }
    for (const id of ids) await bench.client.endSession(id);
    return running;
  } finally {
    await bench.stop();
  }
}

/** The table rows of the sandbox benchmarks (`npm run bench -- --only=sandbox`). */
export async function sandboxLifecycleRows(sessions = 10): Promise<string[][]> {
  console.log(`first tool call: ${sessions} sessions, cold start…`);
  const cold = await measureFirstToolCall(0, sessions);
  console.log(`first tool call: ${sessions} sessions, warm pool of 1…`);
  const warm = await measureFirstToolCall(1, sessions);
  const idleSessions = 3;
  const timeout = 2;
  const wait = 6;
  console.log(`idle containers: ${idleSessions} sessions, ${timeout} s idle timeout…`);
  const idle = await countIdleContainers(idleSessions, timeout, wait);
  const ratio = percentile(warm.first, 50) / percentile(cold.first, 50);
  const later = [...cold.second, ...warm.second];
  return [
    [
      'first tool call, cold start',
      ms(percentile(cold.first, 50)),
      ms(percentile(cold.first, 95)),
      `n=${cold.first.length}`,
    ],
    [
      'first tool call, warm pool',
      ms(percentile(warm.first, 50)),
      ms(percentile(warm.first, 95)),
      `n=${warm.first.length}; p50 ${ratio.toFixed(2)} × cold; target < cold: ${ratio < 1 ? 'met' : 'MISSED'}`,
    ],
    [
      '  second tool call (container running)',
      ms(percentile(later, 50)),
      ms(percentile(later, 95)),
      `n=${later.length}, both runs: the floor a first call can reach`,
    ],
    [
      'idle containers after the idle timeout',
      String(idle),
      '',
      `${idleSessions} sessions, ${timeout} s timeout, counted ${wait} s after; target 0: ${idle === 0 ? 'met' : 'MISSED'}`,
    ],
  ];
}

function clusterOf(bench: BenchStack): string {
  return sandboxClusterLabel(readConfig(bench.environment).temporal.namespace, bench.stack.temporalAddress);
}

/** Waits (60 s at most) until the cluster has `size` running warm containers no session claimed. */
async function untilPoolFull(docker: Docker, cluster: string, size: number): Promise<void> {
  const filters = JSON.stringify({ label: [`${SANDBOX_LABELS.cluster}=${cluster}`, SANDBOX_LABELS.warm] });
  for (let attempt = 0; attempt < 600; attempt++) {
    const containers = await docker.listContainers({ filters });
    const ready = containers.filter((container) => container.Names.some((name) => name.startsWith('/keel-warm-')));
    if (ready.length >= size) return;
    await sleep(100);
  }
  throw new Error('the warm pool never filled');
}

async function allEvents(client: KeelClient, sessionId: string): Promise<SessionEvent[]> {
  const events: SessionEvent[] = [];
  let page: string | undefined;
  do {
    const result = await client.listEvents(sessionId, { limit: 500, ...(page ? { page } : {}) });
    events.push(...result.data);
    page = result.next_page ?? undefined;
  } while (page !== undefined);
  return events;
}

/** Milliseconds from each `agent.tool_use` to its `agent.tool_result`, in order. */
function toolCallsMs(events: SessionEvent[]): number[] {
  const uses = new Map(
    events.flatMap((event) => (event.type === 'agent.tool_use' ? [[event.id, event.processed_at ?? ''] as const] : [])),
  );
  return events.flatMap((event) =>
    event.type === 'agent.tool_result'
      ? [Date.parse(event.processed_at ?? '') - Date.parse(uses.get(event.tool_use_id) ?? '')]
      : [],
  );
}
