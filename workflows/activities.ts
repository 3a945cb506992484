import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { createModelActivities } from '../activities/model/create-model-activities';
import type { createSandboxActivities } from '../activities/sandbox/create-sandbox-activities';
import type {
  ArchiveEventsInput,
  ArchiveRunIndexedInput,
  WriteArchiveIndexInput,
} from '../activities/storage/archive-events';
import type {
  CompactConversationInput,
  CompactConversationResult,
  ConversationRef,
  StoreConversationInput,
  ToolOutput,
} from '../common/conversation';
import type { EventArchiveRef } from '../common/events';
import type { CloneRepositoryInput, CloneRepositoryResult } from '../common/repository-clone';
import type { CallMcpToolInput, CallMcpToolResult, ListMcpToolsInput, ListMcpToolsResult } from '../common/mcp';
import type { CallModelInput, CallModelResult } from '../common/model';
import type { EvaluatePermissionInput, JudgedPermission } from '../common/permission';
import type { GradeOutcomeInput, GradeOutcomeResult } from '../common/outcome';
import type { WebFetchInput } from '../common/web-fetch';
import type { RequestWorkInput, RequestWorkResult } from '../common/work-queue';
import { DEPLOYMENT_TASK_QUEUE } from '../common/deployment';
import type { ScheduledDeploymentRunInput } from '../common/deployment';
import type { WebSearchInput } from '../common/web-search';
import type {
  DestroySandboxInput,
  ExecuteInput,
  ProvisionSandboxInput,
  ProvisionSandboxResult,
} from '../common/sandbox';

type ModelActivities = ReturnType<typeof createModelActivities>;
/** The sandbox Activities as the worker registers them: `execute` stores long outputs (see `withStoredOutput`). */
type SandboxActivities = Omit<ReturnType<typeof createSandboxActivities>, 'execute'> & {
  execute(input: ExecuteInput): Promise<ToolOutput>;
};

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

/** The Activities that reach outside the sandbox from the worker, with credentials resolved inside them. */
interface OutboundActivities {
  listMcpTools(input: ListMcpToolsInput): Promise<ListMcpToolsResult>;
  callMcpTool(input: CallMcpToolInput): Promise<CallMcpToolResult>;
  webFetch(input: WebFetchInput): Promise<ToolOutput>;
  webSearch(input: WebSearchInput): Promise<ToolOutput>;
}

/** The storage Activities: a run's event archive, and the move of an inline conversation to the store. */
interface StorageActivities {
  archiveEvents(input: ArchiveEventsInput): Promise<EventArchiveRef>;
  writeArchiveIndex(input: WriteArchiveIndexInput): Promise<string>;
  archiveRunIndexed(input: ArchiveRunIndexedInput): Promise<string>;
  storeConversation(input: StoreConversationInput): Promise<ConversationRef>;
}

/**
 * Compaction calls the model once or a few times and stores a new chain: Temporal retries it (a retryable model
 * failure or a lost worker) with backoff; an interrupt does not wait for it. A `callModel` that compacts first runs
 * with these options too, so a worker lost in a compaction is retried as before, with no `session.error`.
 */
const COMPACTION_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
  cancellationType: ActivityCancellationType.TRY_CANCEL,
};

/**
 * The `auto` permission policy's classifier call: short, retried by Temporal a few times; when retries run out the
 * Workflow holds the call for the user. An interrupt does not wait for it.
 */
const PERMISSION_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
  cancellationType: ActivityCancellationType.TRY_CANCEL,
};

/**
 * An outcome's grader call: retried by Temporal a few times (a retryable model failure, a reply without a verdict);
 * when retries run out the Workflow ends the evaluation as `failed`. An interrupt does not wait for it.
 */
const GRADER_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
  cancellationType: ActivityCancellationType.TRY_CANCEL,
};

/** Blob writes are idempotent (content-addressed): retried until the store answers. */
const STORAGE_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
};

/**
 * MCP calls and `web_fetch` report failures in their result (the model or the log shows them), so a thrown error is
 * a lost worker or a bug: retried a few times. A retried MCP tool call may run twice (at-least-once). An interrupt
 * does not wait: the Activity aborts its request on the same cancellation.
 */
const OUTBOUND_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
  cancellationType: ActivityCancellationType.TRY_CANCEL,
};

/** The work queue of self-hosted environments, in the control-plane store. */
interface SelfHostedActivities {
  requestSelfHostedWork(input: RequestWorkInput): Promise<RequestWorkResult>;
}

/** Queueing work is one small idempotent write: retried until the store answers. */
const SELF_HOSTED_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
};

const model = proxyActivities<ModelActivities>(MODEL_OPTIONS);
const outbound = proxyActivities<OutboundActivities>(OUTBOUND_OPTIONS);
const sandbox = proxyActivities<SandboxActivities>(SANDBOX_OPTIONS);
const storage = proxyActivities<StorageActivities>(STORAGE_OPTIONS);
const selfHosted = proxyActivities<SelfHostedActivities>(SELF_HOSTED_OPTIONS);

/** The Activity of a deployment's scheduled fire, run by the servers (they own session creation). */
interface DeploymentActivities {
  runScheduledDeployment(input: Required<ScheduledDeploymentRunInput>): Promise<void>;
}

/**
 * A scheduled fire runs on the servers' task queue; the server records at most one run per fire time, so a retry (a
 * server lost mid-fire) is safe.
 */
const DEPLOYMENT_OPTIONS: ActivityOptions = {
  taskQueue: DEPLOYMENT_TASK_QUEUE,
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

const deployments = proxyActivities<DeploymentActivities>(DEPLOYMENT_OPTIONS);

/** Runs a deployment as its schedule fired it: records the run and creates its session (on a server). */
export function runScheduledDeployment(input: Required<ScheduledDeploymentRunInput>): Promise<void> {
  return deployments.runScheduledDeployment.executeWithOptions(
    { ...DEPLOYMENT_OPTIONS, summary: `run deployment ${input.deploymentId}` },
    [input],
  );
}

/**
 * Makes sure a work item of the session's self-hosted environment serves the session, so one of the environment's
 * workers claims it and runs the session's tool calls.
 */
export function requestSelfHostedWork(input: RequestWorkInput): Promise<RequestWorkResult> {
  return selfHosted.requestSelfHostedWork.executeWithOptions(
    { ...SELF_HOSTED_OPTIONS, summary: `queue work for ${input.environmentId}` },
    [input],
  );
}

/**
 * Calls the model once (compacting first when `input.compact` says so, with the compaction's retry options);
 * `summary` labels the Activity in the Temporal UI.
 */
export function callModel(input: CallModelInput, summary: string): Promise<CallModelResult> {
  const options = input.compact === undefined ? MODEL_OPTIONS : COMPACTION_OPTIONS;
  return model.callModel.executeWithOptions({ ...options, summary }, [input]);
}

/** Makes sure the session has a running sandbox container. */
export function provisionSandbox(input: ProvisionSandboxInput): Promise<ProvisionSandboxResult> {
  return sandbox.provisionSandbox.executeWithOptions({ ...SANDBOX_OPTIONS, summary: 'provision sandbox' }, [input]);
}

/** Runs one built-in tool in the session's sandbox; `summary` labels the Activity in the Temporal UI. */
export function execute(input: ExecuteInput, summary: string): Promise<ToolOutput> {
  return sandbox.execute.executeWithOptions({ ...SANDBOX_OPTIONS, summary }, [input]);
}

/**
 * Clones a `github_repository` resource into the session's sandbox (the token is read inside the Activity); a failed
 * clone is a result, and a clone already there is left as it is.
 */
export function cloneRepository(input: CloneRepositoryInput): Promise<CloneRepositoryResult> {
  return sandbox.cloneRepository.executeWithOptions(
    { ...SANDBOX_OPTIONS, summary: `clone ${input.url}`.slice(0, 200) },
    [input],
  );
}

/** Stops an idle session's container (removes it): its workspace volume stays for the next one. */
export function stopIdleSandbox(sessionId: string): Promise<void> {
  return sandbox.destroySandbox.executeWithOptions({ ...SANDBOX_OPTIONS, summary: 'stop idle sandbox' }, [
    { sessionId, removeVolume: false },
  ]);
}

/** Removes the session's container and, when asked, its workspace volume. */
export function destroySandbox(input: DestroySandboxInput): Promise<void> {
  return sandbox.destroySandbox.executeWithOptions({ ...SANDBOX_OPTIONS, summary: 'destroy sandbox' }, [input]);
}

/** Lists an MCP server's tools with the session's vault credential; `summary` labels it in the Temporal UI. */
export function listMcpTools(input: ListMcpToolsInput): Promise<ListMcpToolsResult> {
  return outbound.listMcpTools.executeWithOptions(
    { ...OUTBOUND_OPTIONS, summary: `mcp ${input.server.name}: list tools` },
    [input],
  );
}

/** Calls one MCP tool with the session's vault credential. */
export function callMcpTool(input: CallMcpToolInput): Promise<CallMcpToolResult> {
  return outbound.callMcpTool.executeWithOptions(
    { ...OUTBOUND_OPTIONS, summary: `mcp ${input.server.name}: ${input.toolName}` },
    [input],
  );
}

/** Fetches a URL from the worker under the environment's networking policy. */
export function webFetch(input: WebFetchInput): Promise<ToolOutput> {
  return outbound.webFetch.executeWithOptions(
    { ...OUTBOUND_OPTIONS, summary: `web_fetch ${input.url}`.slice(0, 200) },
    [input],
  );
}

/** Searches the web through the worker's search provider. */
export function webSearch(input: WebSearchInput): Promise<ToolOutput> {
  return outbound.webSearch.executeWithOptions(
    { ...OUTBOUND_OPTIONS, summary: `web_search ${input.query}`.slice(0, 200) },
    [input],
  );
}

/** Compacts the session's conversation (a model call summarises the older part); labelled in the Temporal UI. */
export function compactConversation(input: CompactConversationInput): Promise<CompactConversationResult> {
  return model.compactConversation.executeWithOptions({ ...COMPACTION_OPTIONS, summary: 'compact conversation' }, [
    input,
  ]);
}

/** Judges one tool call under the `auto` permission policy (a classifier model call); labelled in the Temporal UI. */
export function evaluatePermission(input: EvaluatePermissionInput): Promise<JudgedPermission> {
  return model.evaluatePermission.executeWithOptions(
    { ...PERMISSION_OPTIONS, summary: `auto permission ${input.toolName}`.slice(0, 200) },
    [input],
  );
}

/** Grades the agent's work on an outcome against its rubric (the grader's model call); labelled in the Temporal UI. */
export function gradeOutcome(input: GradeOutcomeInput): Promise<GradeOutcomeResult> {
  return model.gradeOutcome.executeWithOptions(
    { ...GRADER_OPTIONS, summary: `grade outcome iteration ${input.iteration}` },
    [input],
  );
}

/** Writes a run's events as one immutable archive before the run continues-as-new. */
export function archiveEvents(input: ArchiveEventsInput): Promise<EventArchiveRef> {
  return storage.archiveEvents.executeWithOptions(
    { ...STORAGE_OPTIONS, summary: `archive events ${input.firstPosition}-${input.nextPosition - 1}` },
    [input],
  );
}

/** Folds archive references into an index page, so runs carry one key instead of a growing list. */
export function writeArchiveIndex(input: WriteArchiveIndexInput): Promise<string> {
  return storage.writeArchiveIndex.executeWithOptions({ ...STORAGE_OPTIONS, summary: 'index event archives' }, [input]);
}

/** Writes a run's events as one archive and indexes it, returning the newest index page for the next run to carry. */
export function archiveRunIndexed(input: ArchiveRunIndexedInput): Promise<string> {
  return storage.archiveRunIndexed.executeWithOptions(
    { ...STORAGE_OPTIONS, summary: `archive events ${input.firstPosition}-${input.nextPosition - 1}` },
    [input],
  );
}

/** Stores the inline conversation of a session from before the conversation store, once. */
export function storeConversation(input: StoreConversationInput): Promise<ConversationRef> {
  return storage.storeConversation.executeWithOptions({ ...STORAGE_OPTIONS, summary: 'store conversation' }, [input]);
}
