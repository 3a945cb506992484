import type { SessionStatus } from '../../common/events';

/** The filters and page of `GET /v1/sessions`, validated. */
export interface SessionListRequest {
  limit: number;
  page?: string | undefined;
  /** `desc` (newest first, the default) or `asc`. */
  order?: 'asc' | 'desc' | undefined;
  agentId?: string | undefined;
  /** Only with `agentId`: sessions created on this version of the agent. */
  agentVersion?: number | undefined;
  /** Sessions that mount this memory store (its `KeelMemoryStores` search attribute lists it). */
  memoryStoreId?: string | undefined;
  /** Sessions a deployment created (their `KeelDeployment` search attribute). */
  deploymentId?: string | undefined;
  /**
   * Sessions that match `memoryStoreId` or `deploymentId` by the stores' own records, set by the session service: those
   * created before the search attributes existed carry none, and are found by id.
   */
  earlierMatches?: { memoryStore?: readonly string[]; deployment?: readonly string[] } | undefined;
  statuses?: SessionStatus[] | undefined;
  /** Whether archived sessions are listed too (`include_archived=true`). */
  includeArchived?: boolean | undefined;
  createdAt: { gt?: string | undefined; gte?: string | undefined; lt?: string | undefined; lte?: string | undefined };
  /** Only the sessions of this workspace (set by the session service from the request's key, never by the client). */
  workspaceId?: string | undefined;
}

/** The lower bounds of a creation time filter, which the visibility query applies to the latest run's start time. */
const LOWER_BOUND_OPERATORS = { gt: '>', gte: '>=' } as const;

/**
 * The Temporal visibility query for a session listing: session Workflows, each once (its latest run: runs closed by
 * continue-as-new are left out), filtered by the agent and status search attributes, and by the lower bounds of
 * `createdAt` on the latest run's start time. Listings place a session by the start of its first run (on Temporal's
 * clock, as its start time always placed it); its latest run starts then or later, so a lower bound never leaves out a
 * session placed within it, while an upper bound would leave out a long session placed before it that
 * continued-as-new after it: the caller applies the whole filter to the first runs' starts (`createdWithin`). Values
 * are validated before they get here, and quotes are escaped all the same.
 */
export function sessionListQuery(request: SessionListRequest): string {
  const clauses = ["WorkflowType = 'sessionWorkflow'", "ExecutionStatus != 'ContinuedAsNew'"];
  if (request.agentId !== undefined) clauses.push(`KeelAgent = ${quote(request.agentId)}`);
  if (request.agentVersion !== undefined) clauses.push(`KeelAgentVersion = ${Math.trunc(request.agentVersion)}`);
  if (request.memoryStoreId !== undefined) {
    clauses.push(
      eitherClause(`KeelMemoryStores = ${quote(request.memoryStoreId)}`, request.earlierMatches?.memoryStore ?? []),
    );
  }
  if (request.deploymentId !== undefined) {
    clauses.push(
      eitherClause(`KeelDeployment = ${quote(request.deploymentId)}`, request.earlierMatches?.deployment ?? []),
    );
  }
  if (request.statuses !== undefined && request.statuses.length > 0) {
    clauses.push(`KeelStatus IN (${request.statuses.map(quote).join(', ')})`);
  }
  for (const [name, operator] of Object.entries(LOWER_BOUND_OPERATORS) as Array<
    [keyof typeof LOWER_BOUND_OPERATORS, string]
  >) {
    const value = request.createdAt[name];
    if (value !== undefined) clauses.push(`StartTime ${operator} ${quote(value)}`);
  }
  return clauses.join(' AND ');
}

/** Whether a session placed at `startedAt` (its first run's start) passes a listing's creation time filter, all of it. */
export function createdWithin(startedAt: string, bounds: SessionListRequest['createdAt']): boolean {
  const time = Date.parse(startedAt);
  if (bounds.gt !== undefined && time <= Date.parse(bounds.gt)) return false;
  if (bounds.gte !== undefined && time < Date.parse(bounds.gte)) return false;
  if (bounds.lt !== undefined && time >= Date.parse(bounds.lt)) return false;
  if (bounds.lte !== undefined && time > Date.parse(bounds.lte)) return false;
  return true;
}

/** `clause`, or one of the sessions `ids` (matches recorded before the clause's search attribute existed). */
function eitherClause(clause: string, ids: readonly string[]): string {
  return ids.length === 0 ? clause : `(${clause} OR WorkflowId IN (${ids.map(quote).join(', ')}))`;
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
