import { QueryRejectedError } from '@temporalio/client';
import type { BlobStore } from '../../../common/blob-store';
import { EVENT_ARCHIVE_FORMAT, EVENT_ARCHIVE_INDEX_FORMAT } from '../../../common/events';
import type {
  EventArchive,
  EventArchiveIndexPage,
  EventArchiveRef,
  LoggedEvent,
  SessionStatus,
} from '../../../common/events';
import type { EventsPage, SessionWorkflowResult } from '../../../common/session';
import { getEventsQuery } from '../../../workflows/messages';
import { ApiError } from '../../api-error';
import { BoundedCache } from '../../bounded-cache';
import type { BoundedCacheLimits } from '../../bounded-cache';
import { EventBodies } from './event-bodies';
import type { SessionQueries } from '../session-queries';

/** Events read from the log, with the position the next event will get. */
export interface EventsRead {
  events: LoggedEvent[];
  nextPosition: number;
  status: SessionStatus;
}

/** What the reader needs of `SessionQueries`: running a Query on a session's latest run or on one of its runs. */
export type SessionQueryRunner = Pick<SessionQueries, 'run'> & Partial<Pick<SessionQueries, 'runOpen' | 'endedResult'>>;

/** Options of `SessionEventReader`. */
export interface SessionEventReaderOptions {
  /** Where stored event bodies are filled in; by default one over the same blob store. */
  bodies?: EventBodies;
  /** How many parsed event archives stay in memory, weighed by the size of their JSON. */
  archiveCache?: BoundedCacheLimits;
}

const DEFAULT_ARCHIVE_CACHE: BoundedCacheLimits = { maxEntries: 256, maxBytes: 64 * 1024 * 1024 };
const CLOSED_RUNS_CACHED = 64;
/** `WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW` of Temporal's `WorkflowExecutionStatus`, as `QueryRejectedError` holds it. */
const WORKFLOW_STATUS_CONTINUED_AS_NEW = 6;
/** Queries of a session's latest run that may meet a run that has just continued as new, before asking any run. */
const RUN_HANDOVER_ATTEMPTS = 5;
/** How many flattened archive indexes a server keeps (one per long session being read). */
const INDEXES_CACHED = 256;

/**
 * Reads a session's log. The latest run answers `getEventsQuery` with its own events and the references of the event
 * archives that the runs before it wrote at continue-as-new; older events are read from those archives in the blob
 * store (found by binary search, cached parsed), so a page costs one Query and a few blob reads however many runs
 * the session has. Runs recorded before archives existed are read the old way, by a Query on each closed run of the
 * chain (which makes a worker replay it), for the positions the archives do not cover.
 */
export class SessionEventReader {
  /** Fills in the bodies kept in the blob store; the events `read` returns went through it. */
  readonly bodies: EventBodies;
  private readonly archives: BoundedCache<LoggedEvent[]>;
  private readonly loadingArchives = new Map<string, Promise<LoggedEvent[]>>();
  private readonly closedRuns = new Map<string, ClosedRun>();
  /** Archive references of index pages, flattened oldest first, by the newest page's key; pages never change. */
  private readonly indexes = new Map<string, EventArchiveRef[]>();
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly queries: SessionQueryRunner,
    private readonly blobs: BlobStore,
    options: SessionEventReaderOptions = {},
  ) {
    this.bodies = options.bodies ?? new EventBodies(blobs);
    this.archives = new BoundedCache(options.archiveCache ?? DEFAULT_ARCHIVE_CACHE);
  }

  /** Events at positions strictly greater than `after`, in log order, at most `limit`, as clients see them. */
  async read(sessionId: string, after: number, limit: number): Promise<EventsRead> {
    const read = await this.readStored(sessionId, after, limit);
    return { ...read, events: await this.bodies.hydrate(read.events) };
  }

  /**
   * Like `read`, but the events are as the log stores them: an event may still have a `contentKey` and a placeholder
   * body. For scans that look at ids and types only, or that hydrate just the events they keep.
   */
  async readStored(sessionId: string, after: number, limit: number): Promise<EventsRead> {
    const latest = await this.latestPage(sessionId, after, limit);
    const read = (events: LoggedEvent[]): EventsRead => ({
      events: events.slice(0, Math.max(0, limit)),
      nextPosition: latest.nextPosition,
      status: latest.status,
    });
    const from = after + 1;
    if (from >= latest.firstPosition || limit <= 0) return read(latest.events);
    const archives = [
      ...(await this.indexedArchives(sessionId, latest.archiveIndexKey ?? null)),
      ...(latest.archives ?? []),
    ];
    requireContiguous(sessionId, archives, latest.firstPosition);
    const archivedFrom = archives[0]?.firstPosition ?? latest.firstPosition;
    const events: LoggedEvent[] = [];
    if (from < archivedFrom) events.push(...(await this.readUnarchivedRuns(sessionId, latest, from, archivedFrom)));
    for (
      let index = archiveIndex(archives, Math.max(from, archivedFrom));
      index < archives.length && events.length < limit;
      index += 1
    ) {
      const reference = archives[index];
      if (reference === undefined) break;
      const archived = await this.archive(sessionId, reference);
      const start = Math.max(from, reference.firstPosition) - reference.firstPosition;
      events.push(...archived.slice(start, start + limit - events.length));
    }
    return read([...events, ...latest.events]);
  }

  /**
   * The latest run's page. A session that ended left the archives of all its runs in its result, so its events are read
   * from them and no worker replays its last run; a session that ended before final archives existed is queried.
   */
  private async latestPage(sessionId: string, after: number, limit: number): Promise<EventsPage> {
    const queries = this.queries;
    if (queries.runOpen === undefined || queries.endedResult === undefined) {
      return queries.run(sessionId, getEventsQuery, [{ after, limit }]);
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await queries.runOpen(sessionId, getEventsQuery, [{ after, limit }]);
      } catch (error) {
        if (!(error instanceof QueryRejectedError)) throw error;
        // The run asked had just continued as new (the Query waited for its last Workflow task): the session is
        // running, and its next run answers. Only a Workflow that ended has a result to read.
        if (Number(error.status) !== WORKFLOW_STATUS_CONTINUED_AS_NEW) break;
        if (attempt >= RUN_HANDOVER_ATTEMPTS) return queries.run(sessionId, getEventsQuery, [{ after, limit }]);
      }
    }
    const ended = await queries.endedResult<SessionWorkflowResult>(sessionId).catch(() => null);
    if (ended?.archives === undefined) return this.queries.run(sessionId, getEventsQuery, [{ after, limit }]);
    return {
      events: [],
      firstPosition: ended.eventCount,
      nextPosition: ended.eventCount,
      previousRunId: null,
      archives: ended.archives,
      ...(ended.archiveIndexKey === undefined ? {} : { archiveIndexKey: ended.archiveIndexKey }),
      status: 'terminated',
    };
  }

  /**
   * Events at positions in [`from`, `until`) of runs that wrote no archive, found by walking the chain of runs back
   * from the latest one (each closed run answers once, then it is cached).
   */
  private async readUnarchivedRuns(
    sessionId: string,
    latest: EventsPage,
    from: number,
    until: number,
  ): Promise<LoggedEvent[]> {
    const segments: LoggedEvent[][] = [];
    let firstPosition = latest.firstPosition;
    let previousRunId = latest.previousRunId;
    while (firstPosition > from && previousRunId !== null) {
      const run = await this.closedRun(sessionId, previousRunId, until);
      segments.unshift(run.events.filter((entry) => entry.position >= from && entry.position < until));
      firstPosition = run.firstPosition;
      previousRunId = run.previousRunId;
    }
    return segments.flat();
  }

  /** A closed run's events below `keepBelow` (the archives hold the rest), its first position and its predecessor. */
  private async closedRun(sessionId: string, runId: string, keepBelow: number): Promise<ClosedRun> {
    const cached = this.closedRuns.get(runId);
    if (cached !== undefined) return cached;
    const page = await this.queries.run(
      sessionId,
      getEventsQuery,
      [{ after: -1, limit: Number.MAX_SAFE_INTEGER }],
      runId,
    );
    const run: ClosedRun = {
      // The archives of a session only ever grow at the recent end, so events at or above `keepBelow` are never
      // read from this run again.
      events: page.events.filter((entry) => entry.position < keepBelow),
      firstPosition: page.firstPosition,
      previousRunId: page.previousRunId,
    };
    this.closedRuns.set(runId, run);
    if (this.closedRuns.size > CLOSED_RUNS_CACHED) {
      const oldest = this.closedRuns.keys().next().value;
      if (oldest !== undefined) this.closedRuns.delete(oldest);
    }
    return run;
  }

  /**
   * The archive references held by the index page `key` and the pages before it, oldest first (cached: pages are
   * immutable, and a session's newer page starts from an older one, so each page is read once per server).
   */
  private async indexedArchives(sessionId: string, key: string | null): Promise<EventArchiveRef[]> {
    if (key === null) return [];
    const cached = this.indexes.get(key);
    if (cached !== undefined) return cached;
    const body = await this.blobs.get(key);
    if (body === null) {
      throw new ApiError(
        'api_error',
        `The archive index ${key} of session ${sessionId} is not in the blob store: the server and the workers must share one blob store.`,
      );
    }
    const page = JSON.parse(this.decoder.decode(body)) as EventArchiveIndexPage;
    if (page.format !== EVENT_ARCHIVE_INDEX_FORMAT)
      throw new ApiError('api_error', `${key} is not an archive index page.`);
    const references = [...(await this.indexedArchives(sessionId, page.previous)), ...page.archives];
    this.indexes.set(key, references);
    if (this.indexes.size > INDEXES_CACHED) {
      const oldest = this.indexes.keys().next().value;
      if (oldest !== undefined) this.indexes.delete(oldest);
    }
    return references;
  }

  /** The events of one archive, dense from its first position, from the cache or the blob store. */
  private archive(sessionId: string, reference: EventArchiveRef): Promise<LoggedEvent[]> {
    const cached = this.archives.get(reference.key);
    if (cached !== undefined) return Promise.resolve(cached);
    let load = this.loadingArchives.get(reference.key);
    if (load === undefined) {
      load = this.blobs
        .get(reference.key)
        .then((body) => {
          if (body === null) {
            throw new ApiError(
              'api_error',
              `The events ${reference.firstPosition} to ${reference.nextPosition - 1} of session ${sessionId} are ` +
                `archived under blob key ${reference.key}, which the blob store does not have: the server and the ` +
                'workers must share one blob store.',
            );
          }
          const events = parseArchive(sessionId, reference, this.decoder.decode(body));
          this.archives.set(reference.key, events, body.byteLength);
          return events;
        })
        .finally(() => this.loadingArchives.delete(reference.key));
      this.loadingArchives.set(reference.key, load);
    }
    return load;
  }
}

interface ClosedRun {
  events: LoggedEvent[];
  firstPosition: number;
  previousRunId: string | null;
}

/**
 * The index of the archive holding `position` (the last one that starts at or before it), by binary search;
 * `archives.length` when `position` is past them all.
 */
export function archiveIndex(archives: readonly EventArchiveRef[], position: number): number {
  const last = archives.at(-1);
  if (last === undefined || position >= last.nextPosition) return archives.length;
  let low = 0;
  let high = archives.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((archives[middle]?.firstPosition ?? Infinity) <= position) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** Fails unless the archives follow each other without gap or overlap up to the latest run's first position. */
function requireContiguous(sessionId: string, archives: readonly EventArchiveRef[], firstPosition: number): void {
  archives.forEach((archive, index) => {
    const next = archives[index + 1]?.firstPosition ?? firstPosition;
    if (archive.firstPosition > archive.nextPosition || archive.nextPosition !== next) {
      throw new ApiError(
        'api_error',
        `The event archives of session ${sessionId} are not contiguous: ${archive.key} covers ` +
          `[${archive.firstPosition}, ${archive.nextPosition}) but the next events start at ${next}.`,
      );
    }
  });
}

/** The events of an archive blob, checked against its reference: format, same session and range, dense positions. */
function parseArchive(sessionId: string, reference: EventArchiveRef, json: string): LoggedEvent[] {
  const archive = JSON.parse(json) as EventArchive;
  const count = reference.nextPosition - reference.firstPosition;
  const matches =
    archive.format === EVENT_ARCHIVE_FORMAT &&
    archive.sessionId === sessionId &&
    archive.firstPosition === reference.firstPosition &&
    archive.nextPosition === reference.nextPosition &&
    Array.isArray(archive.events) &&
    archive.events.length === count &&
    archive.events.every((entry, index) => entry.position === reference.firstPosition + index);
  if (!matches) {
    throw new ApiError(
      'api_error',
      `The event archive ${reference.key} does not hold the events ${reference.firstPosition} to ` +
        `${reference.nextPosition - 1} of session ${sessionId}.`,
    );
  }
  return archive.events;
}
