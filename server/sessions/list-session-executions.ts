import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { SessionExecution } from './session-view';

type RawExecution = temporal.api.workflow.v1.IWorkflowExecutionInfo;
type Timestamp = temporal.api.workflow.v1.IWorkflowExecutionInfo['startTime'];

const STATUS_PREFIX = 'WORKFLOW_EXECUTION_STATUS_';

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
      yield memo === undefined ? await described(client, raw) : toSessionExecution(raw, memo);
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
    for (const [key, payload] of Object.entries(raw.memo?.fields ?? {})) memo[key] = converter.fromPayload(payload);
  } catch {
    // An encoding the converter does not know, such as an external storage reference: the SDK's own decode reads it.
    return undefined;
  }
  return memo;
}

/** The row as the SDK decodes it, through a description of its run. */
async function described(client: Client, raw: RawExecution): Promise<SessionExecution> {
  const description = await client.workflow
    .getHandle(raw.execution?.workflowId ?? '', raw.execution?.runId ?? undefined)
    .describe();
  return toSessionExecution(raw, description.memo ?? {});
}

function toSessionExecution(raw: RawExecution, memo: Record<string, unknown>): SessionExecution {
  const startTime = toDate(raw.startTime);
  if (startTime === undefined) throw new Error(`visibility listed ${raw.execution?.workflowId ?? '?'} with no start`);
  const closeTime = toDate(raw.closeTime);
  return {
    workflowId: raw.execution?.workflowId ?? '',
    startTime,
    ...(closeTime === undefined ? {} : { closeTime }),
    memo,
    status: { name: statusName(raw.status) },
  };
}

function toDate(timestamp: Timestamp): Date | undefined {
  if (timestamp === null || timestamp === undefined) return undefined;
  const seconds = timestamp.seconds ?? 0;
  const milliseconds = (typeof seconds === 'number' ? seconds : seconds.toNumber()) * 1000;
  return new Date(milliseconds + Math.floor((timestamp.nanos ?? 0) / 1_000_000));
}

function statusName(
  code: temporal.api.enums.v1.WorkflowExecutionStatus | null | undefined,
): WorkflowExecutionStatusName {
  const name: string | undefined = temporal.api.enums.v1.WorkflowExecutionStatus[code ?? 0];
  return (
    name?.startsWith(STATUS_PREFIX) ? name.slice(STATUS_PREFIX.length) : 'UNKNOWN'
  ) as WorkflowExecutionStatusName;
}
