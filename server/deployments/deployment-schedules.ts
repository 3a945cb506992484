import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { ScheduledDeploymentRunInput } from '../../common/deployment';
import { SESSION_TASK_QUEUE } from '../../common/task-queues';
import type { DeploymentDefinition } from '../store/control-plane-store';
import { invalidField } from '../api-error';

/** What a deployment's Temporal Schedule fires at, and whether it is paused. */
export interface ScheduleState {
  cron: NonNullable<DeploymentDefinition['schedule']>;
  paused: boolean;
}

/**
 * The Temporal Schedules of deployments: one per deployment with a `schedule` (Schedule ID = deployment id). Each
 * fire starts a `deploymentRunWorkflow` (on the session task queue), whose one Activity runs on
 * `DEPLOYMENT_TASK_QUEUE`, which the servers poll: it records the run and creates the session as a manual run would.
 */
export class DeploymentSchedules {
  constructor(private readonly client: Client) {}

  /** Creates, replaces or removes the deployment's Schedule so that it matches `state` (`null`: no Schedule). */
  async apply(deploymentId: string, workspaceId: string, state: ScheduleState | null): Promise<void> {
    const handle = this.client.schedule.getHandle(deploymentId);
    if (state === null) {
      await this.remove(deploymentId);
      return;
    }
    const spec = { cronExpressions: [state.cron.expression], timezone: state.cron.timezone };
    const input: ScheduledDeploymentRunInput = { deploymentId, workspaceId };
    const action = {
      type: 'startWorkflow' as const,
      workflowType: 'deploymentRunWorkflow',
      workflowId: `${deploymentId}-run`,
      taskQueue: SESSION_TASK_QUEUE,
      args: [input],
    };
    try {
      await handle.update((previous) => ({
        ...previous,
        spec,
        action,
        state: { ...previous.state, paused: state.paused },
      }));
      // `update` keeps the paused flag of the description; set it explicitly so it always matches.
      const description = await handle.describe();
      if (description.state.paused !== state.paused) {
        await (state.paused ? handle.pause('paused by the deployment') : handle.unpause('unpaused by the deployment'));
      }
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw this.explained(error);
      await this.client.schedule
        .create({
          scheduleId: deploymentId,
          spec,
          action,
          policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: '1 minute' },
          state: { paused: state.paused, note: state.paused ? 'paused by the deployment' : undefined },
        })
        .catch((failure: unknown) => {
          throw this.explained(failure);
        });
    }
  }

  /** Pauses or unpauses the deployment's Schedule (none: nothing to do). */
  async setPaused(deploymentId: string, paused: boolean, note: string): Promise<void> {
    const handle = this.client.schedule.getHandle(deploymentId);
    try {
      await (paused ? handle.pause(note) : handle.unpause(note));
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
  }

  /** Deletes the deployment's Schedule, if it has one. */
  async remove(deploymentId: string): Promise<void> {
    try {
      await this.client.schedule.getHandle(deploymentId).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
  }

  /** Up to 5 next fire times and whether the Schedule is paused, or `null` when the deployment has no Schedule. */
  async describe(deploymentId: string): Promise<{ upcoming: string[]; paused: boolean } | null> {
    try {
      const description = await this.client.schedule.getHandle(deploymentId).describe();
      return {
        upcoming: description.info.nextActionTimes.slice(0, 5).map((time) => time.toISOString()),
        paused: description.state.paused,
      };
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return null;
      throw error;
    }
  }

  /** A Schedule Temporal refuses (a cron expression it cannot parse) is a 400 naming `schedule`. */
  private explained(error: unknown): unknown {
    const message = error instanceof Error ? error.message : String(error);
    if (/invalid|parse|cron/i.test(message)) return invalidField('schedule.expression', message);
    return error;
  }
}
