/** The task queue of scheduled deployment runs: the servers poll it (they own session creation and the store). */
export const DEPLOYMENT_TASK_QUEUE = 'keel-deployments';

/** What a scheduled fire of a deployment asks the server to do: run the deployment as its schedule would. */
export interface ScheduledDeploymentRunInput {
  deploymentId: string;
  /** The workspace of the deployment (the run is recorded and its session created there). */
  workspaceId: string;
  /** When the cron expression matched (Temporal's `TemporalScheduledStartTime`), RFC 3339; set by the Workflow. */
  scheduledAt?: string;
  /**
   * The fire's Workflow run id, set by the Workflow: the run recorded for it has an id derived from it, so an Activity
   * retry finds the run it recorded rather than record a second one.
   */
  fireId?: string;
}
