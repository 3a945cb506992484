import { defineSearchAttributeKey } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';
import type { ScheduledDeploymentRunInput } from '../common/deployment';
import { runScheduledDeployment } from './activities';

/** The time a Temporal Schedule meant its action for (set by Temporal on each Workflow a Schedule starts). */
const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

/**
 * What a deployment's Temporal Schedule starts at each fire: one Activity, on the servers' task queue, that records
 * the run and creates the session, stamped with the time the cron expression matched (`scheduled_at`).
 */
export async function deploymentRunWorkflow(input: ScheduledDeploymentRunInput): Promise<void> {
  const info = workflowInfo();
  const scheduled = info.typedSearchAttributes.get(SCHEDULED_START_TIME) ?? info.startTime;
  await runScheduledDeployment({
    ...input,
    scheduledAt: input.scheduledAt ?? scheduled.toISOString(),
    fireId: input.fireId ?? info.runId,
  });
}
