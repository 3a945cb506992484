import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { createModelActivities } from '../activities/model/create-model-activities';
import type { createSandboxActivities } from '../activities/sandbox/create-sandbox-activities';
import type { CallModelInput, CallModelResult } from '../common/model';
import type {
  DestroySandboxInput,
  ExecuteInput,
  ExecuteResult,
  ProvisionSandboxInput,
  ProvisionSandboxResult,
} from '../common/sandbox';

type ModelActivities = ReturnType<typeof createModelActivities>;
type SandboxActivities = ReturnType<typeof createSandboxActivities>;

/**
 * Model calls are attempted once per schedule: the session Workflow owns their retries (with durable timers), so
 * it can log `session.status_rescheduled` and honour `retry-after`. Cancellation does not wait for the stream to
 * close, so an interrupt turns the session idle at once; the Activity aborts its request on the same signal.
 */
const MODEL_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { maximumAttempts: 1 },
  cancellationType: ActivityCancellationType.TRY_CANCEL,
};

/**
 * Sandbox operations are retried by Temporal (a lost worker shows as a heartbeat timeout). Cancellation waits for
 * the Activity to confirm, so after an interrupt the command is known to be gone from the container.
 */
const SANDBOX_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

const model = proxyActivities<ModelActivities>(MODEL_OPTIONS);
const sandbox = proxyActivities<SandboxActivities>(SANDBOX_OPTIONS);

/** Calls the model once; `summary` labels the Activity in the Temporal UI. */
export function callModel(input: CallModelInput, summary: string): Promise<CallModelResult> {
  return model.callModel.executeWithOptions({ ...MODEL_OPTIONS, summary }, [input]);
}

/** Makes sure the session has a running sandbox container. */
export function provisionSandbox(input: ProvisionSandboxInput): Promise<ProvisionSandboxResult> {
  return sandbox.provisionSandbox.executeWithOptions({ ...SANDBOX_OPTIONS, summary: 'provision sandbox' }, [input]);
}

/** Runs one built-in tool in the session's sandbox; `summary` labels the Activity in the Temporal UI. */
export function execute(input: ExecuteInput, summary: string): Promise<ExecuteResult> {
  return sandbox.execute.executeWithOptions({ ...SANDBOX_OPTIONS, summary }, [input]);
}

/** Removes the session's container and, when asked, its workspace volume. */
export function destroySandbox(input: DestroySandboxInput): Promise<void> {
  return sandbox.destroySandbox.executeWithOptions({ ...SANDBOX_OPTIONS, summary: 'destroy sandbox' }, [input]);
}
