import type { LoggedEvent, SessionEvent } from '../../../common/events';
import { invalidField } from '../../api-error';
import type { SessionEventReader } from './session-event-reader';

/** One page of `GET /v1/sessions/{id}/events`: the cursor is the position where the next page continues. */
export interface EventPage {
  data: SessionEvent[];
  next_page: string | null;
}

/** What a page asks for. */
export interface EventPageRequest {
  order: 'asc' | 'desc';
  limit: number;
  /** The previous page's `next_page`: a position. */
  page?: number | undefined;
  /** Only events of these types; empty for all. */
  types: string[];
  /** Only events processed within these bounds (RFC 3339 times). */
  createdAt?: { gt?: string | undefined; gte?: string | undefined; lt?: string | undefined; lte?: string | undefined };
}

const SCAN_CHUNK = 500;

/**
 * Reads a page of a session's log in either order, keeping only the requested types; it scans the log in chunks, so
 * a rare type does not need one Query per event, and fills in stored bodies only for the events the page keeps.
 */
export async function readEventPage(
  reader: SessionEventReader,
  sessionId: string,
  request: EventPageRequest,
): Promise<EventPage> {
  const within = timeFilter(request.createdAt ?? {});
  const wanted = (entry: LoggedEvent): boolean =>
    (request.types.length === 0 || request.types.includes(entry.event.type)) && within(entry.event.processed_at);
  const found: LoggedEvent[] = [];
  if (request.order === 'asc') {
    let after = request.page ?? -1;
    for (;;) {
      const read = await reader.readStored(sessionId, after, SCAN_CHUNK);
      for (const entry of read.events) {
        if (found.length === request.limit) break;
        after = entry.position;
        if (wanted(entry)) found.push(entry);
      }
      const more = after < read.nextPosition - 1;
      if (found.length === request.limit || read.events.length === 0 || !more) {
        return { data: await pageData(reader, found), next_page: more && found.length > 0 ? String(after) : null };
      }
    }
  }
  let before = request.page ?? (await reader.readStored(sessionId, Number.MAX_SAFE_INTEGER, 1)).nextPosition;
  while (before > 0 && found.length < request.limit) {
    const from = Math.max(-1, before - SCAN_CHUNK - 1);
    const read = await reader.readStored(sessionId, from, before - from - 1);
    for (const entry of read.events.reverse()) {
      if (found.length === request.limit) break;
      before = entry.position;
      if (wanted(entry)) found.push(entry);
    }
    if (read.events.length === 0) break;
  }
  return { data: await pageData(reader, found), next_page: before > 0 && found.length > 0 ? String(before) : null };
}

/** The events of a page as clients see them, stored bodies filled in. */
async function pageData(reader: SessionEventReader, found: LoggedEvent[]): Promise<SessionEvent[]> {
  return (await reader.bodies.hydrate(found)).map((entry) => entry.event);
}

/**
 * The position to resume a stream after, from a `Last-Event-ID` header: a position as Keel's streams send it, or an
 * event id (`sevt_…`) looked up in the log. A header naming no event of the session is a 400.
 */
export async function resumePosition(
  reader: SessionEventReader,
  sessionId: string,
  lastEventId: string,
): Promise<number> {
  if (/^-?\d+$/.test(lastEventId)) return Math.max(-1, Number(lastEventId));
  let after = -1;
  for (;;) {
    const read = await reader.readStored(sessionId, after, SCAN_CHUNK);
    const match = read.events.find((entry) => entry.event.id === lastEventId);
    if (match !== undefined) return match.position;
    const last = read.events.at(-1);
    if (last === undefined) throw invalidField('Last-Event-ID', `no event ${lastEventId} in session ${sessionId}`);
    after = last.position;
  }
}

/**
 * The position of the session's last event: where a stream opened without `Last-Event-ID` or `after` starts, so it
 * delivers only events emitted after it opened, as the hosted stream does (clients list the history and de-duplicate).
 */
export async function latestPosition(reader: SessionEventReader, sessionId: string): Promise<number> {
  return (await reader.readStored(sessionId, Number.MAX_SAFE_INTEGER, 1)).nextPosition - 1;
}

/** A predicate on an event's `processed_at` for the `created_at[…]` bounds of a listing. */
function timeFilter(
  bounds: NonNullable<EventPageRequest['createdAt']>,
): (processedAt: string | null | undefined) => boolean {
  const [gt, gte, lt, lte] = [bounds.gt, bounds.gte, bounds.lt, bounds.lte].map((value) =>
    value === undefined ? undefined : Date.parse(value),
  );
  if (gt === undefined && gte === undefined && lt === undefined && lte === undefined) return () => true;
  return (processedAt) => {
    const time = Date.parse(processedAt ?? '');
    if (Number.isNaN(time)) return false;
    return (
      (gt === undefined || time > gt) &&
      (gte === undefined || time >= gte) &&
      (lt === undefined || time < lt) &&
      (lte === undefined || time <= lte)
    );
  };
}
