import { startKeelUp } from './keel-up-process';
import { ms, percentile } from './percentiles';
import { measureSessionList } from './session-list-latency';
import { inBatches, measureSingleSession, measureThroughput, multiTurnBenchReply } from './throughput';
import { measureFloorThroughput } from './temporal-floor';

const SINGLE_STEPS = 60;
const EARLY_STEPS = 14;
const SETTLED_FROM = 20;
const SESSIONS = 200;
const STEPS = 10;
const LISTED_SESSIONS = 1_000;
const LIST_LIMIT = 100;
const LIST_SAMPLES = 30;
const STEPS_PER_SECOND_TARGET = 75;
const LIST_P95_TARGET_MS = 100;

/**
 * The throughput rows of `npm run bench` (`--only=throughput` runs just them), on one `keel up` process: one session
 * of 60 tool steps alone, 200 sessions × 10 tool steps at once, then `sessions.list` of 100 once Keel holds 1,000
 * sessions.
 */
export async function throughputRows(): Promise<string[][]> {
  const up = await startKeelUp({ respond: multiTurnBenchReply });
  try {
    console.log(`single session: ${SINGLE_STEPS} tool steps on keel up…`);
    const single = await measureSingleSession(up, SINGLE_STEPS);
    console.log(`throughput: ${SESSIONS} sessions × ${STEPS} tool steps on keel up…`);
    const load = await measureThroughput(up, SESSIONS, STEPS);
    console.log(`sessions.list: ${LIST_LIMIT} of ${LISTED_SESSIONS} sessions…`);
    const list = await measureSessionList(up, SESSIONS, LISTED_SESSIONS, LIST_LIMIT, LIST_SAMPLES);
    await inBatches(load.sessionIds.length, 20, (index) => up.sdk.beta.sessions.delete(load.sessionIds[index] ?? ''));
    console.log(`Temporal alone: ${SESSIONS} Workflows × ${STEPS} steps of two Activities that do nothing…`);
    const floor = await measureFloorThroughput(
      { address: up.temporalAddress, namespace: up.namespace, temporalPid: up.pids.temporal },
      SESSIONS,
      STEPS,
    );

    const { cpu } = load;
    const perStep = (seconds: number): string => `${((seconds * 1000) / Math.max(1, load.toolSteps)).toFixed(1)} ms`;
    const keel = cpu.byProcess['keel'] ?? 0;
    const temporal = cpu.byProcess['temporal'] ?? 0;
    const bench = cpu.byProcess['bench'] ?? 0;
    const docker = cpu.byProcess['docker'] ?? 0;
    const other = Math.max(0, cpu.machineSeconds - keel - temporal - bench - docker);
    const busy = (cpu.machineSeconds / (cpu.wallSeconds * cpu.cores)) * 100;
    const listP50 = percentile(list.latenciesMs, 50);
    const listP95 = percentile(list.latenciesMs, 95);
    const early = single.stepLatenciesMs.slice(0, EARLY_STEPS);
    const settledSteps = single.stepLatenciesMs.slice(SETTLED_FROM);
    return [
      [
        `1 session × ${SINGLE_STEPS} tool steps on keel up, step latency: steps 1–${EARLY_STEPS}`,
        ms(percentile(early, 50)),
        ms(percentile(early, 95)),
        `errors ${single.errors}`,
      ],
      [
        `  steps ${SETTLED_FROM + 1}–${SINGLE_STEPS} (after the transfer queue's poll burst)`,
        ms(percentile(settledSteps, 50)),
        ms(percentile(settledSteps, 95)),
        `n=${settledSteps.length}; with Temporal's default of 20 polls a second they settle at about 100 ms`,
      ],
      [
        `${load.sessions} sessions × ${load.stepsPerSession} tool steps on keel up, wall time`,
        ms(load.wallMs),
        '',
        `${load.toolSteps} tool steps; sandboxes provisioned before, in ${ms(load.warmUpMs)}`,
      ],
      [
        '  tool steps per second',
        load.stepsPerSecond.toFixed(1),
        '',
        `target ≥ ${STEPS_PER_SECOND_TARGET}: ${load.stepsPerSecond >= STEPS_PER_SECOND_TARGET ? 'met' : 'MISSED'}`,
      ],
      [
        '  step latency (SDK stream arrivals)',
        ms(percentile(load.stepLatenciesMs, 50)),
        ms(percentile(load.stepLatenciesMs, 95)),
        `n=${load.stepLatenciesMs.length}`,
      ],
      [
        '  errors, stream errors',
        `${load.errors}, ${load.streamErrors}`,
        '',
        `${load.missedEvents} events missed by streams; target 0: ${load.errors + load.streamErrors === 0 ? 'met' : 'MISSED'}`,
      ],
      [
        '  CPU per tool step: Keel, Temporal',
        `${perStep(keel)}, ${perStep(temporal)}`,
        '',
        `Docker and sandboxes ${perStep(docker)}, bench clients and model ${perStep(bench)}, anything else ${perStep(other)}; machine ${busy.toFixed(0)}% busy on ${cpu.cores} cores`,
      ],
      [
        `${SESSIONS} Workflows × ${STEPS} steps on the same dev server, Temporal alone: steps per second`,
        floor.stepsPerSecond.toFixed(1),
        '',
        `two Activities that do nothing a step, Worker in the bench process; Temporal ${floor.temporalCpuMsPerStep.toFixed(1)} ms of CPU a step`,
      ],
      [
        `sessions.list of ${list.limit} with ${list.sessions} sessions`,
        ms(listP50),
        ms(listP95),
        `n=${list.latenciesMs.length}, ${list.pageItems} items; target p95 < ${LIST_P95_TARGET_MS} ms: ${listP95 < LIST_P95_TARGET_MS ? 'met' : 'MISSED'}`,
      ],
      [
        '  Temporal alone: its two visibility reads of a first page, after each call',
        ms(percentile(list.temporalLatenciesMs, 50)),
        ms(percentile(list.temporalLatenciesMs, 95)),
        `n=${list.temporalLatenciesMs.length}; the open sessions' query, then the closed ones', sent straight to the dev server`,
      ],
    ];
  } finally {
    await up.stop();
  }
}
