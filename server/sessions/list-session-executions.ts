import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import { optionalTsToDate, requiredTsToDate } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { SessionExecution } from './session-view';

type RawExecution = temporal.api.workflow.v1.IWorkflowExecutionInfo;

const Status = temporal.api.enums.v1.WorkflowExecutionStatus;

/** Each status's name as the SDK gives it (`CANCELLED`, where the protocol's enum says `CANCELED`). */
const STATUS_NAMES: Partial<Record<number, WorkflowExecutionStatusName>> = {
  [Status.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED]: 'UNSPECIFIED',
  [Status.WORKFLOW_EXECUTION_STATUS_RUNNING]: 'RUNNING',
  [Status.WORKFLOW_EXECUTION_STATUS_COMPLETED]: 'COMPLETED',
  [Status.WORKFLOW_EXECUTION_STATUS_FAILED]: 'FAILED',
  [Status.WORKFLOW_EXECUTION_STATUS_CANCELED]: 'CANCELLED',
  [Status.WORKFLOW_EXECUTION_STATUS_TERMINATED]: 'TERMINATED',
  [Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW]: 'CONTINUED_AS_NEW',
  [Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT]: 'TIMED_OUT',
  [Status.WORKFLOW_EXECUTION_STATUS_PAUSED]: 'PAUSED',
};

/** The message type of a payload that only refers to one kept in External Storage. */
const STORAGE_REFERENCE_TYPE = 'temporal.api.sdk.v1.ExternalStorageReference';

/**
 * The executions a visibility `query` finds, page by page (`pageSize` rows a page; the server's default when left out),
 * with only what a listing reads (`SessionExecution`). It is `client.workflow.list` without the per-row work a listing
 * does not need: the search attributes decoded twice, the external storage walk of every memo, an awaited decode per
 * row. Memos decode at once with the client's payload converter; a row whose memo cannot decode alone (a payload kept
 * in external storage, or a client with payload codecs) is described instead, which decodes it as the SDK does.
 */
export async function* listSessionExecutions(
  client: Client,
  query: string,
  pageSize?: number,
): AsyncGenerator<SessionExecution> {
  const { namespace, loadedDataConverter } = client.workflow.options;
  const decodesAlone = loadedDataConverter.payloadCodecs.length === 0;
  let nextPageToken: Uint8Array | undefined;
  do {
    const response = await client.workflowService.listWorkflowExecutions({
      namespace,
      query,
      pageSize,
      nextPageToken,
    });
    for (const raw of response.executions) {
      const memo = decodesAlone ? decodeMemo(raw, loadedDataConverter.payloadConverter) : undefined;
      const execution = memo === undefined ? await described(client, raw) : toSessionExecution(raw, memo);
      if (execution !== null) yield execution;
    }
    nextPageToken = response.nextPageToken?.length ? response.nextPageToken : undefined;
  } while (nextPageToken !== undefined);
}

/** The row's memo decoded by `converter`, or `undefined` when one of its payloads is not one it decodes alone. */
function decodeMemo(
  raw: RawExecution,
  converter: Client['workflow']['options']['loadedDataConverter']['payloadConverter'],
): Record<string, unknown> | undefined {
  const memo: Record<string, unknown> = {};
  try {
    for (const [key, payload] of Object.entries(raw.memo?.fields ?? {})) {
      const messageType = payload.metadata?.['messageType'];
      if (messageType !== undefined && Buffer.from(messageType).toString() === STORAGE_REFERENCE_TYPE) return undefined;
      memo[key] = converter.fromPayload(payload);
    }
  } catch {
    // An encoding the converter does not know: the SDK's own decode reads it, or says what is wrong with it.
    return undefined;
  }
  return memo;
}

/**
 * The row as the SDK decodes it, through a description of its run; `null` when the run is gone (removed at the end of
 * its retention while visibility still listed it), so the listing leaves it out as it will once visibility catches up.
 */
async function described(client: Client, raw: RawExecution): Promise<SessionExecution | null> {
  try {
    const description = await client.workflow
      .getHandle(raw.execution?.workflowId ?? '', raw.execution?.runId ?? undefined)
      .describe();
    return toSessionExecution(raw, description.memo ?? {});
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}

/** The row in the listing's shape, its times converted as the SDK's `client.workflow.list` converts them. */
function toSessionExecution(raw: RawExecution, memo: Record<string, unknown>): SessionExecution {
  const closeTime = optionalTsToDate(raw.closeTime);
  return {
    workflowId: raw.execution?.workflowId ?? '',
    startTime: requiredTsToDate(raw.startTime, 'startTime'),
    ...(closeTime === undefined ? {} : { closeTime }),
    memo,
    status: { name: statusName(raw.status) },
  };
}

function statusName(
  code: temporal.api.enums.v1.WorkflowExecutionStatus | null | undefined,
): WorkflowExecutionStatusName {
  return STATUS_NAMES[code ?? -1] ?? 'UNKNOWN';
}
