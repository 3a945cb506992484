import { proxyActivities } from '@temporalio/workflow';

/** The floor's two Activities: stand-ins for Keel's model call and command that do nothing. */
export interface FloorActivities {
  callNoModel(input: { step: number }): Promise<{ tool: string; input: { command: string } }>;
  runNoCommand(input: { command: string }): Promise<string>;
}

const { callNoModel, runNoCommand } = proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

/**
 * Temporal's least cost of a tool step: the shape of a Keel step (a model call, then a command, each an Activity
 * scheduled by a Workflow task) with Activities that do nothing. Returns the Workflow's clock after each step.
 *
 * It lives in `bench/`, with its own `proxyActivities` and its own `workflowsPath`, against STYLE's rules 1 to 3 on
 * purpose: it measures Temporal without Keel, so it must not be part of Keel's Workflow bundle or its Activities.
 */
export async function temporalFloorWorkflow(input: { steps: number }): Promise<number[]> {
  const finished: number[] = [];
  for (let step = 0; step < input.steps; step++) {
    const call = await callNoModel({ step });
    await runNoCommand({ command: call.input.command });
    finished.push(Date.now());
  }
  return finished;
}
