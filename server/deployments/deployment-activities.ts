import type { ScheduledDeploymentRunInput } from '../../common/deployment';
import { runInRequestScope } from '../request-scope';
import type { DeploymentService } from './deployment-service';

/**
 * The Activities the servers run for deployments (task queue `DEPLOYMENT_TASK_QUEUE`): a scheduled fire, in the
 * deployment's workspace, through the same service as a manual run.
 */
export function deploymentActivities(deployments: DeploymentService): {
  runScheduledDeployment(input: Required<ScheduledDeploymentRunInput>): Promise<void>;
} {
  return {
    async runScheduledDeployment(input) {
      const scope = {
        requestId: `schedule_${input.deploymentId}_${input.scheduledAt}`,
        sessionId: undefined,
        workspaceId: input.workspaceId,
      };
      await runInRequestScope(scope, () => deployments.runScheduled(input));
    },
  };
}
