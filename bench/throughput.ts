import type Anthropic from '@anthropic-ai/sdk';
import type { RecordedRequest, ScriptedReply } from '../test/scripted-model-server';
import type { KeelUpProcess } from './keel-up-process';
import { dockerPids, startCpuMeter } from './process-cpu';
import type { CpuShares } from './process-cpu';

/** What one turn of one session looked like from its SDK stream. */
interface TurnObservation {
  /** Arrival gaps: `user.message` → first `agent.tool_result`, then each tool result → the next, in ms. */
  stepLatenciesMs: number[];
  toolResults: number;
  /** `session.error` events, tool results with `is_error`, an idle that is not `end_turn`, refused requests. */
  errors: number;
  /** The stream failed (an exception while reading it) or ended before the turn's idle. */
  streamError: boolean;
  /** What went wrong, in a few words each, to print with the figures. */
  problems: string[];
  /** Ids of the events the stream delivered, to check against the session's log. */
  streamedIds: Set<string>;
  userMessageId: string | null;
}

/** Figures of `sessions` concurrent sessions, each running one turn of `stepsPerSession` tool steps. */
export interface ThroughputResult {
  sessions: number;
  stepsPerSession: number;
  /** Time to provision every sandbox: one warm-up step per session, all at once, before the timed turns. */
  warmUpMs: number;
  wallMs: number;
  toolSteps: number;
  stepsPerSecond: number;
  stepLatenciesMs: number[];
  errors: number;
  /** Streams that failed or ended early, plus events of the log that a stream never delivered. */
  streamErrors: number;
  missedEvents: number;
  cpu: CpuShares;
  /** The timed turns on the machine's monotonic clock in µs, the clock of V8's CPU profiles (`--cpu-prof`). */
  timedWindowUs: [number, number];
  sessionIds: string[];
}

/** How many creates run at once; enough to fill the machine without queueing hundreds of requests. */
const CREATE_CONCURRENCY = 20;

/**
 * The benchmark's model for several turns per session: the latest user message that says `steps:N` gets N bash tool
 * calls (`echo step`), one per model call, then a text reply.
 */
export function multiTurnBenchReply(request: RecordedRequest): ScriptedReply {
  const messages = request.body.messages;
  let asked = -1;
  let wanted = 0;
  messages.forEach((message, index) => {
    if (message.role !== 'user') return;
    const match = /steps:(\d+)/.exec(JSON.stringify(message.content));
    if (match !== null && !JSON.stringify(message.content).includes('tool_result')) {
      asked = index;
      wanted = Number(match[1]);
    }
  });
  const done = messages.slice(asked + 1).filter((message) => message.role === 'assistant').length;
  if (done < wanted) return { kind: 'tool_use', name: 'bash', input: { command: 'echo step' } };
  return { kind: 'text', text: 'Done: every step ran.' };
}

/**
 * `sessions` sessions on one `keel up`, created through the official SDK, each provisioned by a one-step warm-up
 * turn; then every session runs a turn of `steps` bash steps at the same moment, each watched through the SDK's
 * event stream opened before its message was sent, as a user would. Throughput is tool results over the wall time
 * of the timed turns; a step's latency is the gap between arrivals on the stream. CPU time is split between Keel's
 * process, the Temporal dev server, this process (the SDK clients and the scripted model) and the rest.
 */
export async function measureThroughput(up: KeelUpProcess, sessions: number, steps: number): Promise<ThroughputResult> {
  const { sdk } = up;
  const agent = await sdk.beta.agents.create({
    name: 'throughput bench',
    model: 'scripted-model',
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  const environment = await sdk.beta.environments.create({ name: 'throughput bench', config: { type: 'cloud' } });
  const sessionIds = await inBatches(sessions, CREATE_CONCURRENCY, async (index) => {
    const session = await sdk.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      title: `throughput ${index}`,
    });
    return session.id;
  });

  const warmUpStarted = performance.now();
  const warmUps = await Promise.all(sessionIds.map((id) => observeTurn(sdk, id, 1)));
  const warmUpMs = performance.now() - warmUpStarted;
  const warmUpFailures = warmUps.filter((turn) => turn.errors > 0 || turn.streamError).length;
  if (warmUpFailures > 0) console.log(`  warm-up: ${warmUpFailures} of ${sessions} sessions failed their first step`);
  printProblems('warm-up', warmUps);

  const stopCpu = startCpuMeter({
    keel: [up.pids.keel],
    temporal: [up.pids.temporal],
    bench: [process.pid],
    docker: dockerPids(),
  });
  const started = performance.now();
  const startedUs = monotonicMicroseconds();
  const turns = await Promise.all(sessionIds.map((id) => observeTurn(sdk, id, steps)));
  const wallMs = performance.now() - started;
  const timedWindowUs: [number, number] = [startedUs, monotonicMicroseconds()];
  const cpu = stopCpu();

  let missedEvents = 0;
  await inBatches(sessions, CREATE_CONCURRENCY, async (index) => {
    const turn = turns[index];
    const id = sessionIds[index];
    if (turn === undefined || id === undefined) return;
    missedEvents += await eventsNotStreamed(sdk, id, turn);
  });
  printProblems('timed turns', turns);
  const toolSteps = turns.reduce((sum, turn) => sum + turn.toolResults, 0);
  return {
    sessions,
    stepsPerSession: steps,
    warmUpMs,
    wallMs,
    toolSteps,
    stepsPerSecond: toolSteps / (wallMs / 1000),
    stepLatenciesMs: turns.flatMap((turn) => turn.stepLatenciesMs),
    errors: turns.reduce((sum, turn) => sum + turn.errors, 0),
    streamErrors: turns.filter((turn) => turn.streamError).length + missedEvents,
    missedEvents,
    cpu,
    timedWindowUs,
    sessionIds,
  };
}

/** Step latencies of one session alone, in order: the gaps between its tool results' arrivals on the SDK stream. */
export interface SingleSessionResult {
  stepLatenciesMs: number[];
  errors: number;
}

/**
 * One session alone on `up`, provisioned by a one-step turn, then a turn of `steps` tool steps: with Temporal's default
 * of 20 polls a second of a shard's transfer queue, its steps settle at about 100 ms once the limiter's burst is spent.
 */
export async function measureSingleSession(up: KeelUpProcess, steps: number): Promise<SingleSessionResult> {
  const { sdk } = up;
  const agent = await sdk.beta.agents.create({
    name: 'single session bench',
    model: 'scripted-model',
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  const environment = await sdk.beta.environments.create({ name: 'single session', config: { type: 'cloud' } });
  const session = await sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  const warmUp = await observeTurn(sdk, session.id, 1);
  const turn = await observeTurn(sdk, session.id, steps);
  await sdk.beta.sessions.delete(session.id);
  printProblems('single session', [warmUp, turn]);
  const streamErrors = [warmUp, turn].filter((observed) => observed.streamError).length;
  return { stepLatenciesMs: turn.stepLatenciesMs, errors: warmUp.errors + turn.errors + streamErrors };
}

/** Opens the session's stream, sends `steps:<steps>`, and reads the stream until the turn's idle. */
async function observeTurn(sdk: Anthropic, sessionId: string, steps: number): Promise<TurnObservation> {
  const observation: TurnObservation = {
    stepLatenciesMs: [],
    toolResults: 0,
    errors: 0,
    streamError: false,
    problems: [],
    streamedIds: new Set(),
    userMessageId: null,
  };
  let stream: Awaited<ReturnType<Anthropic['beta']['sessions']['events']['stream']>>;
  try {
    stream = await sdk.beta.sessions.events.stream(sessionId);
  } catch (error) {
    observation.streamError = true;
    observation.problems.push(`stream not opened: ${String(error)}`);
    return observation;
  }
  const reading = (async () => {
    let previous: number | null = null;
    let idle = false;
    try {
      for await (const event of stream) {
        if (event.type === 'event_start' || event.type === 'event_delta') continue;
        observation.streamedIds.add(event.id);
        const at = performance.now();
        if (event.type === 'user.message' && previous === null) previous = at;
        if (event.type === 'session.error') {
          observation.errors += 1;
          observation.problems.push(`session.error ${event.error.type}: ${event.error.message.slice(0, 120)}`);
        }
        if (event.type === 'agent.tool_result') {
          observation.toolResults += 1;
          if (event.is_error === true) {
            observation.errors += 1;
            observation.problems.push(`tool error: ${JSON.stringify(event.content ?? '').slice(0, 160)}`);
          }
          if (previous !== null) observation.stepLatenciesMs.push(at - previous);
          previous = at;
        }
        if (event.type === 'session.status_idle' && previous !== null) {
          if (event.stop_reason.type !== 'end_turn') {
            observation.errors += 1;
            observation.problems.push(`idle with ${event.stop_reason.type}`);
          }
          idle = true;
          break;
        }
      }
    } catch (error) {
      observation.streamError = true;
      observation.problems.push(`stream failed: ${String(error)}`);
    }
    if (!idle && !observation.streamError) {
      observation.streamError = true;
      observation.problems.push('stream ended before the idle');
    }
  })();
  try {
    const sent = await sdk.beta.sessions.events.send(sessionId, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: `steps:${steps}` }] }],
    });
    observation.userMessageId = sent.data?.[0]?.id ?? null;
  } catch (error) {
    observation.errors += 1;
    observation.problems.push(`send refused: ${String(error)}`);
    stream.controller.abort();
  }
  await reading;
  stream.controller.abort();
  return observation;
}

/** How many events of the turn (from its `user.message` to its idle) the session's log has and the stream missed. */
async function eventsNotStreamed(sdk: Anthropic, sessionId: string, turn: TurnObservation): Promise<number> {
  if (turn.userMessageId === null) return 0;
  const logged: string[] = [];
  let inTurn = false;
  for await (const event of sdk.beta.sessions.events.list(sessionId, { limit: 1000 })) {
    if (event.id === turn.userMessageId) inTurn = true;
    if (!inTurn) continue;
    logged.push(event.id);
    if (event.type === 'session.status_idle') break;
  }
  return logged.filter((id) => !turn.streamedIds.has(id)).length;
}

function monotonicMicroseconds(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Prints each distinct problem of `turns` once, with how many times it happened. */
function printProblems(stage: string, turns: TurnObservation[]): void {
  const counts = new Map<string, number>();
  for (const problem of turns.flatMap((turn) => turn.problems)) counts.set(problem, (counts.get(problem) ?? 0) + 1);
  for (const [problem, count] of counts) console.log(`  ${stage}: ${count} × ${problem}`);
}

/** Runs `task(0 … count-1)`, `concurrency` at a time, and returns the results in index order. */
export async function inBatches<Result>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<Result>,
): Promise<Result[]> {
  const results: Result[] = new Array<Result>(count);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    for (let index = next++; index < count; index = next++) results[index] = await task(index);
  });
  await Promise.all(lanes);
  return results;
}
