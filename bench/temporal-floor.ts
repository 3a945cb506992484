import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { installQuietRuntime } from '../cli/stack';
import { readConfig } from '../common/config';
import { gapsBetween } from './percentiles';
import { startCpuMeter } from './process-cpu';
import type { FloorActivities } from './temporal-floor-workflow';

/** Where the floor runs: the dev server Keel uses, and the pid to read its CPU time from. */
export interface FloorTarget {
  address: string;
  namespace: string;
  temporalPid?: number;
}

/** One floor Workflow's steps: each step's duration in ms, and the dev server's CPU time per step. */
export interface FloorSteps {
  stepMs: number[];
  /** In ms (NaN without `temporalPid`). */
  temporalCpuMsPerStep: number;
}

/** Many floor Workflows' steps at once. */
export interface FloorThroughput {
  stepsPerSecond: number;
  /** CPU time of the Temporal dev server per step, in ms (NaN without `temporalPid`). */
  temporalCpuMsPerStep: number;
}

const TASK_QUEUE = 'keel-bench-floor';
const WARM_UP_STEPS = 10;

const activities: FloorActivities = {
  callNoModel: () => Promise.resolve({ tool: 'bash', input: { command: 'echo step' } }),
  runNoCommand: () => Promise.resolve('step\n'),
};

/**
 * Runs `work` with a Worker of the floor Workflow in this process, on the Temporal of `target`, and a client of it.
 * The Worker has the SDK's defaults and data converter: Keel's data converter and interceptors count as Keel's own.
 */
async function withFloorWorker<T>(target: FloorTarget, work: (client: Client) => Promise<T>): Promise<T> {
  // Keel's own runtime, as an in-process stack installs it (the first install in a process stays for all of it).
  await installQuietRuntime(readConfig({}).logs);
  let native: NativeConnection | undefined;
  let connection: Connection | undefined;
  try {
    native = await NativeConnection.connect({ address: target.address });
    connection = await Connection.connect({ address: target.address });
    const worker = await Worker.create({
      connection: native,
      namespace: target.namespace,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('./temporal-floor-workflow'),
      activities,
    });
    const client = new Client({ connection, namespace: target.namespace });
    return await worker.runUntil(() => work(client));
  } finally {
    await connection?.close();
    await native?.close();
  }
}

function runFloor(client: Client, workflowId: string, steps: number): Promise<number[]> {
  return client.workflow.execute('temporalFloorWorkflow', { taskQueue: TASK_QUEUE, workflowId, args: [{ steps }] });
}

/**
 * Temporal alone, one Workflow of `steps` steps shaped like Keel's tool step with Activities that do nothing: each
 * step's duration on the Workflow's clock, in ms (the first step is left out, as Keel's is), and the dev server's CPU
 * time over the Workflow per step.
 */
export function measureFloorSteps(target: FloorTarget, steps: number): Promise<FloorSteps> {
  return withFloorWorker(target, async (client) => {
    const stopCpu = startTemporalCpuMeter(target.temporalPid);
    const finished = await runFloor(client, `keel-bench-floor-${Date.now()}`, steps);
    return {
      stepMs: gapsBetween(finished),
      temporalCpuMsPerStep: stopCpu(steps),
    };
  });
}

/**
 * Starts timing the CPU of the Temporal dev server `pid`; the function it returns gives the ms of CPU it used since,
 * per step of `steps` (NaN without a `pid`).
 */
export function startTemporalCpuMeter(pid: number | undefined): (steps: number) => number {
  const stop = startCpuMeter({ temporal: pid === undefined ? [] : [pid] });
  return (steps) => (pid === undefined ? Number.NaN : ((stop().byProcess['temporal'] ?? 0) * 1000) / steps);
}

/**
 * Temporal alone, `workflows` Workflows of `steps` steps each started at once: steps per second over the wall time
 * from the first start to the last result, and the dev server's CPU time per step.
 */
export function measureFloorThroughput(
  target: FloorTarget,
  workflows: number,
  steps: number,
): Promise<FloorThroughput> {
  return withFloorWorker(target, async (client) => {
    // Every Workflow's first task then finds the Worker polling, as Keel's sessions find theirs.
    await runFloor(client, `keel-bench-floor-warm-up-${Date.now()}`, WARM_UP_STEPS);
    const stopCpu = startTemporalCpuMeter(target.temporalPid);
    const batch = Date.now();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: workflows }, (_, index) => runFloor(client, `keel-bench-floor-${batch}-${index}`, steps)),
    );
    const total = workflows * steps;
    const temporalCpuMsPerStep = stopCpu(total);
    return { stepsPerSecond: (total * 1000) / (performance.now() - started), temporalCpuMsPerStep };
  });
}
