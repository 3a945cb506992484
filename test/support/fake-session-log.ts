import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { QueryDefinition } from '@temporalio/workflow';
import { afterEach } from 'vitest';
import { BLOB_PREFIXES } from '../../common/blob-store';
import type { BlobStore } from '../../common/blob-store';
import { EVENT_ARCHIVE_FORMAT } from '../../common/events';
import type { EventArchive, EventArchiveRef, LoggedEvent } from '../../common/events';
import type { EventsPage, GetEventsQueryInput } from '../../common/session';
import { ApiError } from '../../server/api-error';
import type { SessionQueryRunner } from '../../server/sessions/events/session-event-reader';
import { contentKey } from '../../storage/content-key';
import { FolderBlobStore } from '../../storage/folder-blob-store';

/** Makes `RecordingBlobStore`s for the tests of a file, each removed after the test that made it. */
export function recordingBlobStores(): () => RecordingBlobStore {
  const stores: RecordingBlobStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.remove();
  });
  return () => {
    const store = new RecordingBlobStore();
    stores.push(store);
    return store;
  };
}

/** A `FolderBlobStore` in a temporary folder that records every key read, and can be slowed down or emptied. */
export class RecordingBlobStore implements BlobStore {
  readonly folder = mkdtempSync(path.join(tmpdir(), 'keel-blobs-'));
  readonly reads: string[] = [];
  /** Milliseconds each `get` waits before answering. */
  delayMs = 0;
  private readonly store = new FolderBlobStore(this.folder);

  putFile(key: string, sourcePath: string): Promise<void> {
    return this.store.putFile(key, sourcePath);
  }

  getFile(key: string, targetPath: string): Promise<boolean> {
    return this.store.getFile(key, targetPath);
  }

  delete(key: string): Promise<void> {
    return this.store.delete(key);
  }

  put(key: string, body: Uint8Array): Promise<void> {
    return this.store.put(key, body);
  }

  async get(key: string): Promise<Uint8Array | null> {
    this.reads.push(key);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.store.get(key);
  }

  /** Removes the temporary folder. */
  remove(): void {
    rmSync(this.folder, { recursive: true, force: true });
  }
}

/** The text of the tool result at `position`; long enough to tell bodies apart. */
export function toolOutputText(position: number): string {
  return `output of the tool call at ${position}: ${'x'.repeat(position % 7)}`;
}

/**
 * The event at `position` as the log stores it: every fifth one is an `agent.tool_result` whose body is in the blob
 * store (when `storedBodies`), the others `agent.message`s.
 */
export function storedEvent(position: number, storedBodies: boolean): LoggedEvent {
  const processedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, position)).toISOString();
  if (position % 5 !== 4) {
    return {
      position,
      event: {
        id: `sevt_${position}`,
        type: 'agent.message',
        content: [{ type: 'text', text: `message ${position}` }],
        processed_at: processedAt,
      },
    };
  }
  const text = toolOutputText(position);
  return {
    position,
    event: {
      id: `sevt_${position}`,
      type: 'agent.tool_result',
      tool_use_id: `sevt_${position - 1}`,
      content: [{ type: 'text', text: storedBodies ? '' : text }],
      is_error: false,
      processed_at: processedAt,
    },
    ...(storedBodies ? { contentKey: contentKey(BLOB_PREFIXES.toolOutput, text) } : {}),
  };
}

/** One run of a fake session: its events, and whether it wrote an archive when it continued-as-new. */
interface FakeRun {
  runId: string;
  firstPosition: number;
  events: LoggedEvent[];
  archive: EventArchiveRef | null;
}

/**
 * A session's chain of runs without Temporal: answers `getEventsQuery` as the session Workflow does (the latest run
 * with the archive references of the runs before it), on the latest run or on a closed one, and records each Query.
 */
export class FakeSessionLog implements SessionQueryRunner {
  /** Each Query answered: the run asked (`latest` for the latest run) and its input. */
  readonly queries: Array<{ runId: string; input: GetEventsQueryInput }> = [];
  private readonly runs: FakeRun[] = [];

  private constructor(readonly sessionId: string) {}

  /**
   * A session of `legacyRuns` runs without archives, then `archivedRuns` runs that archived their events, then the
   * latest run; each run holds `eventsPerRun` events. Tool result bodies and archives are written to `blobs`.
   */
  static async create(options: {
    sessionId: string;
    blobs: BlobStore;
    legacyRuns: number;
    archivedRuns: number;
    eventsPerRun: number;
    latestEvents?: number;
  }): Promise<FakeSessionLog> {
    const log = new FakeSessionLog(options.sessionId);
    const closedRuns = options.legacyRuns + options.archivedRuns;
    let position = 0;
    for (let index = 0; index <= closedRuns; index += 1) {
      const count = index === closedRuns ? (options.latestEvents ?? options.eventsPerRun) : options.eventsPerRun;
      const storedBodies = index >= options.legacyRuns;
      const events = Array.from({ length: count }, (_, offset) => storedEvent(position + offset, storedBodies));
      for (const entry of events) {
        if (entry.contentKey !== undefined) {
          await options.blobs.put(entry.contentKey, Buffer.from(toolOutputText(entry.position)));
        }
      }
      let archive: EventArchiveRef | null = null;
      if (storedBodies && index < closedRuns) {
        const body: EventArchive = {
          format: EVENT_ARCHIVE_FORMAT,
          sessionId: options.sessionId,
          firstPosition: position,
          nextPosition: position + count,
          events,
        };
        const json = JSON.stringify(body);
        const key = contentKey(`${BLOB_PREFIXES.events}${options.sessionId}/${position}-`, json);
        await options.blobs.put(key, Buffer.from(json));
        archive = { firstPosition: position, nextPosition: position + count, key };
      }
      log.runs.push({ runId: `run-${index}`, firstPosition: position, events, archive });
      position += count;
    }
    return log;
  }

  /**
   * Queries still to refuse, as `SessionQueries` does when no worker answers in time (its attempts each ended
   * `DEADLINE_EXCEEDED`): with a 504 `timeout_error`.
   */
  failNextQueries = 0;

  /** Adds events (with inline bodies) to the latest run, as a running Workflow does. */
  append(count: number): LoggedEvent[] {
    const latest = this.runs.at(-1);
    if (latest === undefined) throw new Error('no run to append to');
    const events = Array.from({ length: count }, (_, offset) => storedEvent(this.nextPosition + offset, false));
    latest.events.push(...events);
    return events;
  }

  /** Position the next event will get. */
  get nextPosition(): number {
    const latest = this.runs.at(-1);
    return latest === undefined ? 0 : latest.firstPosition + latest.events.length;
  }

  /** Queries asked of closed runs (each one makes a real worker replay that run). */
  get closedRunQueries(): number {
    return this.queries.filter((query) => query.runId !== 'latest').length;
  }

  run<Result, Args extends unknown[]>(
    sessionId: string,
    definition: QueryDefinition<Result, Args>,
    args: Args,
    runId?: string,
  ): Promise<Result> {
    if (sessionId !== this.sessionId || definition.name !== 'events') {
      return Promise.reject(new Error(`unexpected Query ${definition.name} on ${sessionId}`));
    }
    const input = args[0] as GetEventsQueryInput;
    this.queries.push({ runId: runId ?? 'latest', input });
    if (this.failNextQueries > 0) {
      this.failNextQueries -= 1;
      return Promise.reject(
        new ApiError(
          'timeout_error',
          `Temporal gave no answer to a Query of session ${sessionId} in 3 attempts of up to 10 s each`,
        ),
      );
    }
    const index = runId === undefined ? this.runs.length - 1 : this.runs.findIndex((run) => run.runId === runId);
    const run = this.runs[index];
    if (run === undefined) return Promise.reject(new Error(`no run ${runId}`));
    const archives = this.runs
      .slice(0, index)
      .flatMap((earlier) => (earlier.archive === null ? [] : [earlier.archive]));
    const page: EventsPage = {
      events: run.events.filter((entry) => entry.position > input.after).slice(0, input.limit),
      firstPosition: run.firstPosition,
      nextPosition: run.firstPosition + run.events.length,
      previousRunId: this.runs[index - 1]?.runId ?? null,
      ...(archives.length > 0 ? { archives } : {}),
      status: 'idle',
    };
    return Promise.resolve(page as Result);
  }
}
