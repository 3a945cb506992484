import type { BetaManagedAgentsDeployment } from '@anthropic-ai/sdk/resources/beta/deployments';
import type { BetaManagedAgentsDeploymentRun } from '@anthropic-ai/sdk/resources/beta/deployment-runs';
import type { StoredDeployment, StoredDeploymentRun } from '../store/control-plane-store';

/**
 * The deployment object. `status` is `paused` exactly when `paused_reason` is set; an archived deployment reports
 * `active` with `archived_at` set and no upcoming runs. `upcoming` are the next fire times of its Temporal Schedule.
 */
export function toDeploymentView(deployment: StoredDeployment, upcoming: string[]): BetaManagedAgentsDeployment {
  const { definition } = deployment;
  const archived = deployment.archivedAt !== null;
  const pausedReason = archived ? null : definition.paused_reason;
  return {
    id: deployment.id,
    type: 'deployment',
    name: definition.name,
    description: definition.description,
    agent: definition.agent,
    environment_id: definition.environment_id,
    initial_events: definition.initial_events as unknown as BetaManagedAgentsDeployment['initial_events'],
    metadata: definition.metadata,
    resources: definition.resources as unknown as BetaManagedAgentsDeployment['resources'],
    vault_ids: definition.vault_ids,
    schedule:
      definition.schedule === null
        ? null
        : { ...definition.schedule, last_run_at: definition.last_run_at, upcoming_runs_at: archived ? [] : upcoming },
    status: pausedReason === null ? 'active' : 'paused',
    paused_reason: pausedReason as BetaManagedAgentsDeployment['paused_reason'],
    ...(definition.budget === null ? {} : { budget: definition.budget }),
    created_at: deployment.createdAt,
    updated_at: deployment.updatedAt,
    archived_at: deployment.archivedAt,
  };
}

/** The deployment run object: exactly one of `session_id` and `error` is set. */
export function toDeploymentRunView(run: StoredDeploymentRun): BetaManagedAgentsDeploymentRun {
  return {
    id: run.id,
    type: 'deployment_run',
    deployment_id: run.deploymentId,
    agent: run.agent,
    session_id: run.sessionId,
    error: run.error as BetaManagedAgentsDeploymentRun['error'],
    trigger_context: run.triggerContext,
    created_at: run.createdAt,
  };
}
