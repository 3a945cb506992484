import { proxyActivities } from '@temporalio/workflow';

/** The floor's two Activities: stand-ins for Keel's model call and command that do nothing. */
export interface FloorActivities {
  floorModel(step: number): Promise<{ tool: string; input: { command: string } }>;
  floorCommand(command: string): Promise<string>;
}

const { floorModel, floorCommand } = proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

/**
 * Temporal's least cost of a tool step: the shape of a Keel step (a model call, then a command, each an Activity
 * scheduled by a Workflow task) with Activities that do nothing. Returns the Workflow's clock after each step.
 */
export async function temporalFloor(steps: number): Promise<number[]> {
  const finished: number[] = [];
  for (let step = 0; step < steps; step++) {
    const call = await floorModel(step);
    await floorCommand(call.input.command);
    finished.push(Date.now());
  }
  return finished;
}
