import { Client, Connection } from '@temporalio/client';
import { IllegalStateError } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startCpuMeter } from './process-cpu';
import type { FloorActivities } from './temporal-floor-workflow';

/** Where the floor runs: the dev server Keel uses, and the pid to read its CPU time from. */
export interface FloorTarget {
  address: string;
  namespace: string;
  temporalPid?: number;
}

/** The floor's figures: one Workflow's steps, and many Workflows' steps at once. */
export interface FloorThroughput {
  stepsPerSecond: number;
  /** CPU time of the Temporal dev server per step, in ms (NaN without `temporalPid`). */
  temporalCpuMsPerStep: number;
}

const TASK_QUEUE = 'keel-bench-floor';
const WARM_UP_STEPS = 10;

const activities: FloorActivities = {
  floorModel: () => Promise.resolve({ tool: 'bash', input: { command: 'echo step' } }),
  floorCommand: () => Promise.resolve('step\n'),
};

/**
 * Runs `work` with a Worker of the floor Workflow in this process, on the Temporal of `target`, and a client of it.
 * The Worker has the SDK's defaults, as Keel's has for everything that touches a step.
 */
async function withFloorWorker<T>(target: FloorTarget, work: (client: Client) => Promise<T>): Promise<T> {
  quietRuntime();
  const native = await NativeConnection.connect({ address: target.address });
  const connection = await Connection.connect({ address: target.address });
  try {
    const worker = await Worker.create({
      connection: native,
      namespace: target.namespace,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('./temporal-floor-workflow'),
      activities,
    });
    const client = new Client({ connection, namespace: target.namespace });
    return await worker.runUntil(async () => {
      await runFloor(client, 'keel-bench-floor-warm-up', WARM_UP_STEPS);
      return work(client);
    });
  } finally {
    await connection.close();
    await native.close();
  }
}

/** Installs a Temporal runtime that logs warnings only, unless one runs already (a Keel worker in this process). */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch (error) {
    if (!(error instanceof IllegalStateError)) throw error;
  }
}

function runFloor(client: Client, workflowId: string, steps: number): Promise<number[]> {
  return client.workflow.execute('temporalFloor', { taskQueue: TASK_QUEUE, workflowId, args: [steps] });
}

/**
 * Temporal alone, one Workflow of `steps` steps shaped like Keel's tool step with Activities that do nothing: each
 * step's duration on the Workflow's clock, in ms (the first step is left out, as Keel's is).
 */
export function measureFloorSteps(target: FloorTarget, steps: number): Promise<number[]> {
  return withFloorWorker(target, async (client) => {
    const finished = await runFloor(client, `keel-bench-floor-${Date.now()}`, steps);
    return finished.slice(1).map((time, index) => time - finished[index]!);
  });
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
    const stopCpu = startCpuMeter({ temporal: target.temporalPid === undefined ? [] : [target.temporalPid] });
    const batch = Date.now();
    await Promise.all(
      Array.from({ length: workflows }, (_, index) => runFloor(client, `keel-bench-floor-${batch}-${index}`, steps)),
    );
    const cpu = stopCpu();
    const total = workflows * steps;
    return {
      stepsPerSecond: total / cpu.wallSeconds,
      temporalCpuMsPerStep:
        target.temporalPid === undefined ? Number.NaN : ((cpu.byProcess['temporal'] ?? 0) * 1000) / total,
    };
  });
}
