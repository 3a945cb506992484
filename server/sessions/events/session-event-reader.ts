import { QueryRejectedError } from '@temporalio/client';
import type { BlobStore } from '../../../common/blob-store';
import { archiveIndex, readArchive, readArchiveIndex, requireContiguous } from '../../../common/event-archives';
import type { EventArchiveRef, LoggedEvent, SessionStatus } from '../../../common/events';
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

/** The server's failure for archives that are missing or not as referenced: a 500 `api_error`. */
const serverError = (message: string): ApiError => new ApiError('api_error', message);

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
    requireContiguous(sessionId, archives, latest.firstPosition, serverError);
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
  private indexedArchives(sessionId: string, key: string | null): Promise<EventArchiveRef[]> {
    return readArchiveIndex(this.blobs, sessionId, key, {
      fail: serverError,
      cached: (page) => this.indexes.get(page),
      remember: (page, references) => {
        this.indexes.set(page, references);
        if (this.indexes.size > INDEXES_CACHED) {
          const oldest = this.indexes.keys().next().value;
          if (oldest !== undefined) this.indexes.delete(oldest);
        }
      },
    });
  }

  /** The events of one archive, dense from its first position, from the cache or the blob store. */
  private archive(sessionId: string, reference: EventArchiveRef): Promise<LoggedEvent[]> {
    const cached = this.archives.get(reference.key);
    if (cached !== undefined) return Promise.resolve(cached);
    let load = this.loadingArchives.get(reference.key);
    if (load === undefined) {
      load = readArchive(this.blobs, sessionId, reference, serverError)
        .then(({ events, bytes }) => {
          this.archives.set(reference.key, events, bytes);
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
