import type Anthropic from '@anthropic-ai/sdk';
import Docker from 'dockerode';
import { removeSessionWorkspace } from '../../activities/sandbox/workspace-volume';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { RecordedRequest, ScriptedReply } from '../scripted-model-server';
import { auditSession, finalText, stepCommand } from './chaos-audit';
import type { SessionAudit } from './chaos-audit';
import { startFaultDriver } from './chaos-faults';
import type { FaultKind } from './chaos-faults';
import { startChaosTopology } from './chaos-topology';
import type { ChaosProcess } from './chaos-topology';
import { seededRandom } from './seeded-random';

/** What a chaos run does. */
export interface ChaosOptions {
  sessions: number;
  /** Append steps per session (a final `cat` step comes after them). */
  steps: number;
  /** The PRNG seed of the fault schedule. */
  seed: number;
  faults: FaultKind[];
  /** Bounds of the pause before each fault. */
  minFaultMs: number;
  maxFaultMs: number;
  /** Seconds each append step sleeps after appending (so faults land mid-turn). */
  sleepSeconds: number;
  servers: number;
  workers: number;
  /** How long to wait for every session to end, from the first message sent. */
  timeoutMs: number;
  log: (line: string) => void;
}

/** What a chaos run measured. */
export interface ChaosReport {
  options: Omit<ChaosOptions, 'log'>;
  completed: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  streamLost: number;
  streamDuplicated: number;
  /** Append steps whose line the effects file holds exactly once, twice or more, never; or that were not read. */
  effectsOnce: number;
  effectsRepeated: number;
  effectsNever: number;
  /** Of `effectsNever`, the steps whose tool result told the model the command was interrupted (an error result). */
  effectsNeverReported: number;
  effectsUnread: number;
  sessionErrors: number;
  /** `session.error` events by `<error type>/<retry status>`. */
  sessionErrorKinds: Record<string, number>;
  errorResults: number;
  faults: Record<FaultKind, number>;
  wallMs: number;
  audits: SessionAudit[];
}

/** The scripted model of a chaos run: `chaos:<n>` gets its append steps, then the `cat`, then the final text. */
function chaosReply(steps: number, sleepSeconds: number): (request: RecordedRequest) => ScriptedReply {
  return (request) => {
    const first = JSON.stringify(request.body.messages[0]?.content ?? '');
    const session = Number(/chaos:(\d+)/.exec(first)?.[1] ?? -1);
    const done = request.body.messages.filter((message) => message.role === 'assistant').length;
    if (done <= steps) {
      return {
        kind: 'tool_use',
        name: 'bash',
        input: { command: stepCommand(session, done + 1, steps, sleepSeconds) },
      };
    }
    return { kind: 'text', text: finalText(session) };
  };
}

const pause = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));

/** Calls `call` with the client of a server, trying each in turn (a server may be down) until `deadline`. */
async function onAnyServer<T>(
  servers: ChaosProcess[],
  deadline: number,
  call: (client: Anthropic) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    const server = servers[attempt % servers.length]!;
    try {
      return await call(server.client);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await pause(250);
    }
  }
}

/**
 * Follows a session's live stream from its first event until its turn ends (`session.status_idle` or
 * `session.status_terminated`) or `deadline`: when a stream breaks (its server was killed), reconnects to the next
 * server with `Last-Event-ID`. `done` resolves to the ids of the logged events delivered, in order, repeats included.
 */
function followStream(
  servers: ChaosProcess[],
  sessionId: string,
  deadline: number,
): { connected: Promise<void>; done: Promise<string[]> } {
  let onConnected: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const done = (async () => {
    const delivered: string[] = [];
    for (let attempt = 0; Date.now() < deadline; attempt += 1) {
      const server = servers[attempt % servers.length]!;
      const last = delivered.at(-1);
      try {
        // `after=-1` (Keel's query parameter) starts at the first event; Last-Event-ID resumes after the last seen.
        const stream = await server.client.beta.sessions.events.stream(
          sessionId,
          {},
          {
            headers: last === undefined ? {} : { 'Last-Event-ID': last },
            query: last === undefined ? { after: -1 } : {},
            timeout: Math.max(1, deadline - Date.now()),
          },
        );
        onConnected();
        for await (const item of stream) {
          if (item.type === 'event_start' || item.type === 'event_delta') continue;
          delivered.push(item.id);
          if (item.type === 'session.status_idle' || item.type === 'session.status_terminated') {
            stream.controller.abort();
            return delivered;
          }
        }
      } catch {
        // The server went down under the stream, or refused it while restarting: try the next one.
      }
      await pause(250);
    }
    onConnected();
    return delivered;
  })();
  return { connected, done };
}

/** Every event of a session, listed through the SDK's auto-paging. */
async function listEvents(client: Anthropic, sessionId: string): Promise<BetaManagedAgentsSessionEvent[]> {
  const events: BetaManagedAgentsSessionEvent[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId, { limit: 100 })) events.push(event);
  return events;
}

/**
 * Runs the chaos suite: starts the chaos topology, creates `sessions` sessions and sends each its message, then
 * injects seeded faults while every session runs its tool steps and a live stream follows it; once every stream saw
 * its turn end (or the time ran out), stops the faults, lists every session's log and audits it.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { log } = options;
  log(
    `chaos: seed ${options.seed}; ${options.sessions} sessions × ${options.steps} steps; faults ${options.faults.join(',')}`,
  );
  const bootStarted = performance.now();
  const sessionIds: string[] = [];
  const topology = await startChaosTopology({
    servers: options.servers,
    workers: options.workers,
    model: { respond: chaosReply(options.steps, options.sleepSeconds) },
  });
  try {
    const servers = topology.servers;
    log(`topology up in ${((performance.now() - bootStarted) / 1000).toFixed(1)} s`);
    const setupDeadline = Date.now() + 120_000;
    const first = servers[0]!.client;
    const agent = await first.beta.agents.create({
      name: 'chaos',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const environment = await first.beta.environments.create({ name: 'chaos', config: { type: 'cloud' } });
    for (let index = 0; index < options.sessions; index += 1) {
      const session = await first.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
      sessionIds.push(session.id);
    }
    const started = performance.now();
    const deadline = Date.now() + options.timeoutMs;
    // Streams first; messages are sent before any fault, so a send is never retried (a retried send whose first try
    // got through would start a second turn).
    const streams = sessionIds.map((id) => followStream(servers, id, deadline));
    await Promise.all(streams.map((stream) => stream.connected));
    await Promise.all(
      sessionIds.map((id, index) =>
        onAnyServer(servers, setupDeadline, (client) =>
          client.beta.sessions.events.send(id, {
            events: [{ type: 'user.message', content: [{ type: 'text', text: `chaos:${index}` }] }],
          }),
        ),
      ),
    );
    const driver = startFaultDriver({
      topology,
      random: seededRandom(options.seed),
      kinds: options.faults,
      minMs: options.minFaultMs,
      maxMs: options.maxFaultMs,
      sessionIds: () => sessionIds,
      log,
    });
    let ended = 0;
    const delivered = await Promise.all(
      streams.map(async (stream) => {
        const ids = await stream.done;
        ended += 1;
        if (ended % Math.max(1, Math.floor(options.sessions / 10)) === 0)
          log(`${ended}/${options.sessions} turns ended`);
        return ids;
      }),
    );
    const wallMs = performance.now() - started;
    log(`every turn ended after ${(wallMs / 1000).toFixed(1)} s; stopping the faults`);
    await driver.stop();
    const listDeadline = Date.now() + 120_000;
    const audits: SessionAudit[] = [];
    for (const [index, id] of sessionIds.entries()) {
      const events = await onAnyServer(servers, listDeadline, (client) => listEvents(client, id));
      audits.push(
        auditSession({
          session: index,
          steps: options.steps,
          sleepSeconds: options.sleepSeconds,
          events,
          streamedIds: delivered[index]!,
        }),
      );
    }
    const sum = (pick: (audit: SessionAudit) => number): number =>
      audits.reduce((total, audit) => total + pick(audit), 0);
    const effects = audits.flatMap((audit) => audit.effects);
    const { log: _log, ...reported } = options;
    return {
      options: reported,
      completed: audits.filter((audit) => audit.completed).length,
      lost: sum((audit) => audit.lost),
      duplicated: sum((audit) => audit.duplicated),
      outOfOrder: sum((audit) => audit.outOfOrder),
      streamLost: sum((audit) => audit.streamLost),
      streamDuplicated: sum((audit) => audit.streamDuplicated),
      effectsOnce: effects.filter((count) => count === 1).length,
      effectsRepeated: effects.filter((count) => count !== undefined && count > 1).length,
      effectsNever: effects.filter((count) => count === 0).length,
      effectsNeverReported: sum((audit) => audit.interrupted),
      effectsUnread: effects.filter((count) => count === undefined).length,
      sessionErrors: sum((audit) => audit.errors),
      sessionErrorKinds: countBy(audits.flatMap((audit) => audit.errorKinds)),
      errorResults: sum((audit) => audit.errorResults),
      faults: { ...driver.injected },
      wallMs,
      audits,
    };
  } finally {
    await topology.stop();
    // The workers are gone: remove the sessions' sandboxes and workspaces, as no idle timer will now.
    const docker = new Docker();
    for (const id of sessionIds) await removeSessionWorkspace(docker, id).catch(() => undefined);
  }
}

/** How many times each value occurs. */
function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
