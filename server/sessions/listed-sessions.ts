import type { Client } from '@temporalio/client';
import { sessionListingOf } from '../../common/session-listing';
import { workspaceOfMemo } from '../../common/workspace';
import { listSessionExecutions } from './list-session-executions';
import { createdWithin, sessionListQuery } from './session-list-query';
import type { SessionListRequest } from './session-list-query';
import { compareKeys } from './session-pages';
import type { SessionKey } from './session-pages';
import type { SessionExecution } from './session-view';

/** A session as Temporal's visibility listing gave it, with its place in Keel's listings. */
export interface ListedSession extends SessionKey {
  execution: SessionExecution;
}

/** What a newest-first page needs: its `wanted` newest sessions older than `olderThan` (a `next_page` cursor's). */
export interface NewestSessions {
  wanted: number;
  olderThan: SessionKey | null;
}

/**
 * Reads from Temporal's visibility store the sessions a page of a listing can be chosen from: those `request` filters
 * in, placed by their first run's start (`SessionListing.startedAt`, or the run's start for a session from before
 * listings) and passing `bounds` on it. With `newest`, it reads until it knows the `newest.wanted` newest sessions
 * older than its cursor, and returns exactly those (`DescendingScan`): the first pages of the default, newest-first
 * listing read about a page, not every session. Otherwise it reads and returns them all.
 */
export async function readListedSessions(
  client: Client,
  request: SessionListRequest,
  bounds: SessionListRequest['createdAt'],
  newest: NewestSessions | null,
): Promise<ListedSession[]> {
  const query = sessionListQuery({ ...request, createdAt: bounds });
  const found: ListedSession[] = [];
  /** Keeps the execution when the listing takes it; returns its place, or `null` when it is left out. */
  const take = (execution: SessionExecution): number | null => {
    if (!request.includeArchived && typeof execution.memo?.['archived_at'] === 'string') return null;
    if (request.workspaceId !== undefined && workspaceOfMemo(execution.memo) !== request.workspaceId) return null;
    const startedAt = sessionListingOf(execution.memo)?.startedAt ?? execution.startTime.toISOString();
    if (!createdWithin(startedAt, bounds)) return null;
    const key = { id: execution.workflowId, startTime: startedAt };
    if (newest?.olderThan && compareKeys(key, newest.olderThan) >= 0) return null;
    found.push({ ...key, execution });
    return Date.parse(startedAt);
  };
  if (newest === null) {
    for await (const execution of listSessionExecutions(client, query)) take(execution);
    return found;
  }
  // A session's first run started no later than its latest run, which closed no later than it started: the open
  // runs, newest start first, then the closed ones, latest close first, bound the places of the sessions still unread.
  const pageSize = newest.wanted + 1;
  const open = new DescendingScan(newest.wanted, []);
  let stopped = false;
  for await (const execution of listSessionExecutions(client, `${query} AND ExecutionStatus = 'Running'`, pageSize)) {
    stopped = open.row(execution.startTime.getTime(), take(execution));
    if (stopped) break;
  }
  const closed = new DescendingScan(newest.wanted, open.places());
  const closedQuery = `${query} AND ExecutionStatus != 'Running'`;
  for await (const execution of listSessionExecutions(client, closedQuery, pageSize)) {
    const closedStop = closed.row(execution.closeTime?.getTime() ?? Number.POSITIVE_INFINITY, take(execution));
    stopped ||= closedStop;
    if (closedStop) break;
  }
  // Unread sessions all sit below the lowest of the wanted places; sessions read below it may have unread ones between.
  const floor = closed.places().at(-1);
  return stopped && floor !== undefined ? found.filter((session) => Date.parse(session.startTime) >= floor) : found;
}

/**
 * When a scan of rows that come in descending order of a time may stop: once `wanted` places (epoch milliseconds) are
 * known above that time, which bounds the places of every row still unread. A row out of order turns stopping off,
 * so an unexpected order costs a full read, never a wrong page. Pure, so the rule is tested alone.
 */
export class DescendingScan {
  /** The highest places seen, highest first, at most `wanted`. */
  private readonly top: number[] = [];
  private last = Number.POSITIVE_INFINITY;
  private ordered = true;

  constructor(
    private readonly wanted: number,
    seen: readonly number[],
  ) {
    for (const place of seen) this.keep(place);
  }

  /** Records a row by its order time and its place (`null` when it is left out); true when the scan may stop. */
  row(orderTime: number, place: number | null): boolean {
    if (orderTime > this.last) this.ordered = false;
    this.last = orderTime;
    if (place !== null) this.keep(place);
    const lowestWanted = this.top[this.wanted - 1];
    return this.ordered && lowestWanted !== undefined && lowestWanted > this.last;
  }

  /** The highest places seen, highest first. */
  places(): number[] {
    return [...this.top];
  }

  private keep(place: number): void {
    const index = this.top.findIndex((kept) => kept < place);
    this.top.splice(index < 0 ? this.top.length : index, 0, place);
    if (this.top.length > this.wanted) this.top.pop();
  }
}
