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
  statuses?: SessionStatus[] | undefined;
  /** Whether archived sessions are listed too (`include_archived=true`). */
  includeArchived?: boolean | undefined;
  createdAt: { gt?: string | undefined; gte?: string | undefined; lt?: string | undefined; lte?: string | undefined };
}

const TIME_OPERATORS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/**
 * The Temporal visibility query for a session listing: session Workflows, filtered by the agent and status search
 * attributes and by start time. Values are validated before they get here, and quotes are escaped all the same.
 */
export function sessionListQuery(request: SessionListRequest): string {
  const clauses = ["WorkflowType = 'sessionWorkflow'"];
  if (request.agentId !== undefined) clauses.push(`KeelAgent = ${quote(request.agentId)}`);
  if (request.agentVersion !== undefined) clauses.push(`KeelAgentVersion = ${Math.trunc(request.agentVersion)}`);
  if (request.statuses !== undefined && request.statuses.length > 0) {
    clauses.push(`KeelStatus IN (${request.statuses.map(quote).join(', ')})`);
  }
  for (const [name, operator] of Object.entries(TIME_OPERATORS) as Array<[keyof typeof TIME_OPERATORS, string]>) {
    const value = request.createdAt[name];
    if (value !== undefined) clauses.push(`StartTime ${operator} ${quote(value)}`);
  }
  return clauses.join(' AND ');
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
