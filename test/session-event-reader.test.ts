import { rmSync } from 'node:fs';
import path from 'node:path';
import { QueryRejectedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { BLOB_PREFIXES } from '../common/blob-store';
import type { EventArchiveRef, LoggedEvent } from '../common/events';
import { emptyUsage } from '../common/session';
import type { EventsPage, SessionWorkflowResult } from '../common/session';
import { readEventPage } from '../server/sessions/events/event-page';
import { archiveIndex } from '../common/event-archives';
import { SessionEventReader } from '../server/sessions/events/session-event-reader';
import type { SessionQueryRunner } from '../server/sessions/events/session-event-reader';
import type { RecordingBlobStore } from './support/fake-session-log';
import { FakeSessionLog, recordingBlobStores, toolOutputText } from './support/fake-session-log';

const blobStore = recordingBlobStores();

/** A session of 50 archived runs of 30 events and a latest run of 20: positions 0 to 1519. */
async function archivedSession(sessionId: string) {
  const blobs = blobStore();
  const log = await FakeSessionLog.create({
    sessionId,
    blobs,
    legacyRuns: 0,
    archivedRuns: 50,
    eventsPerRun: 30,
    latestEvents: 20,
  });
  return { blobs, log, reader: new SessionEventReader(log, blobs) };
}

function positions(entries: LoggedEvent[]): number[] {
  return entries.map((entry) => entry.position);
}

function range(from: number, until: number): number[] {
  return Array.from({ length: until - from }, (_, index) => from + index);
}

function archiveReads(blobs: RecordingBlobStore): string[] {
  return blobs.reads.filter((key) => key.startsWith(BLOB_PREFIXES.events));
}

/** Checks that every tool result has its stored text and no `contentKey`. */
function expectHydrated(entries: LoggedEvent[]): void {
  for (const entry of entries) {
    expect(entry).not.toHaveProperty('contentKey');
    if (entry.event.type === 'agent.tool_result') {
      expect(entry.event.content).toEqual([{ type: 'text', text: toolOutputText(entry.position) }]);
    }
  }
}

describe('SessionEventReader over 50 archived runs', () => {
  it('a page from the start reads the first archives and one Query of the latest run, with bodies filled in', async () => {
    const { blobs, log, reader } = await archivedSession('sesn_reader_start');
    const read = await reader.read(log.sessionId, -1, 100);
    expect(positions(read.events)).toEqual(range(0, 100));
    expect(read.nextPosition).toBe(1520);
    expect(log.queries).toEqual([{ runId: 'latest', input: { after: -1, limit: 100 } }]);
    expect(archiveReads(blobs)).toHaveLength(4);
    expect(blobs.reads.filter((key) => key.startsWith(BLOB_PREFIXES.toolOutput))).toHaveLength(20);
    expectHydrated(read.events);
  });

  it('a page in the middle reads only the archives that hold it, and a second read hits the caches', async () => {
    const { blobs, log, reader } = await archivedSession('sesn_reader_middle');
    const read = await reader.read(log.sessionId, 749, 50);
    expect(positions(read.events)).toEqual(range(750, 800));
    expect(log.queries).toHaveLength(1);
    expect(log.closedRunQueries).toBe(0);
    expect(archiveReads(blobs)).toHaveLength(2);
    expectHydrated(read.events);

    const readsBefore = blobs.reads.length;
    const again = await reader.read(log.sessionId, 749, 50);
    expect(again.events).toEqual(read.events);
    expect(blobs.reads.length).toBe(readsBefore);
    expect(log.queries).toHaveLength(2);
  });

  it('a page across the last archive and the latest run is dense and ends at the latest event', async () => {
    const { blobs, log, reader } = await archivedSession('sesn_reader_end');
    const read = await reader.read(log.sessionId, 1480, 100);
    expect(positions(read.events)).toEqual(range(1481, 1520));
    expect(log.queries).toHaveLength(1);
    expect(archiveReads(blobs)).toHaveLength(1);
    expectHydrated(read.events);

    const latestOnly = await reader.read(log.sessionId, 1509, 100);
    expect(positions(latestOnly.events)).toEqual(range(1510, 1520));
    expect(archiveReads(blobs)).toHaveLength(1);
  });

  it('readStored keeps the contentKey and the placeholder, so scans read no tool output', async () => {
    const { blobs, log, reader } = await archivedSession('sesn_reader_stored');
    const read = await reader.readStored(log.sessionId, -1, 10);
    const result = read.events[4];
    expect(result?.event).toMatchObject({ type: 'agent.tool_result', content: [{ type: 'text', text: '' }] });
    expect(result?.contentKey).toMatch(/^tool-output\/[0-9a-f]{64}$/);
    expect(blobs.reads.filter((key) => key.startsWith(BLOB_PREFIXES.toolOutput))).toHaveLength(0);
  });

  it('the events list pages through all 1,520 events, one Query per chunk and no Query of a closed run', async () => {
    const { log, reader } = await archivedSession('sesn_reader_pages');
    const listed: string[] = [];
    let page: number | undefined;
    do {
      const result = await readEventPage(reader, log.sessionId, { order: 'asc', limit: 300, page, types: [] });
      listed.push(...result.data.map((event) => event.id));
      page = result.next_page === null ? undefined : Number(result.next_page);
    } while (page !== undefined);
    expect(listed).toEqual(range(0, 1520).map((position) => `sevt_${position}`));
    expect(log.closedRunQueries).toBe(0);

    const newest = await readEventPage(reader, log.sessionId, {
      order: 'desc',
      limit: 3,
      types: ['agent.tool_result'],
    });
    expect(newest.data.map((event) => event.id)).toEqual(['sevt_1519', 'sevt_1514', 'sevt_1509']);
    expect(newest.data[0]).toMatchObject({ content: [{ type: 'text', text: toolOutputText(1519) }] });
    expect(newest.data[0]).not.toHaveProperty('contentKey');
  });
});

describe('SessionEventReader with runs recorded before archives', () => {
  it('walks previousRunId for the positions no archive covers, and reads archives for the rest', async () => {
    const blobs = blobStore();
    const log = await FakeSessionLog.create({
      sessionId: 'sesn_reader_legacy_mixed',
      blobs,
      legacyRuns: 3,
      archivedRuns: 5,
      eventsPerRun: 10,
    });
    const reader = new SessionEventReader(log, blobs);
    const all = await reader.read(log.sessionId, -1, 1000);
    expect(positions(all.events)).toEqual(range(0, 90));
    expectHydrated(all.events);
    // The legacy walk passes through the 8 closed runs once; the caches answer the next reads.
    expect(log.closedRunQueries).toBe(8);

    const fromLegacy = await reader.read(log.sessionId, 14, 30);
    expect(positions(fromLegacy.events)).toEqual(range(15, 45));
    expect(log.closedRunQueries).toBe(8);

    const archivedOnly = new SessionEventReader(log, blobs);
    const page = await archivedOnly.read(log.sessionId, 39, 20);
    expect(positions(page.events)).toEqual(range(40, 60));
    expect(log.closedRunQueries).toBe(8);
  });

  it('reads a session with no archive at all the old way, one Query per closed run', async () => {
    const blobs = blobStore();
    const log = await FakeSessionLog.create({
      sessionId: 'sesn_reader_legacy_only',
      blobs,
      legacyRuns: 4,
      archivedRuns: 0,
      eventsPerRun: 10,
    });
    const reader = new SessionEventReader(log, blobs);
    const read = await reader.read(log.sessionId, 4, 12);
    expect(positions(read.events)).toEqual(range(5, 17));
    expect(read.events[4]?.event).toMatchObject({ content: [{ type: 'text', text: toolOutputText(9) }] });
    expect(log.closedRunQueries).toBe(4);
    expect(blobs.reads).toEqual([]);
  });
});

describe('SessionEventReader failures', () => {
  it('a missing archive is an api_error naming the session, the positions and the key', async () => {
    const { blobs, log, reader } = await archivedSession('sesn_reader_missing_archive');
    rmSync(path.join(blobs.folder, BLOB_PREFIXES.events), { recursive: true });
    await expect(reader.read(log.sessionId, 100, 10)).rejects.toMatchObject({
      type: 'api_error',
      status: 500,
      message: expect.stringMatching(/events 90 to 119 of session sesn_reader_missing_archive .*events\//),
    });
  });

  it('a missing tool output is an api_error naming the event and the key, never an empty text', async () => {
    const { blobs, log, reader } = await archivedSession('sesn_reader_missing_body');
    rmSync(path.join(blobs.folder, BLOB_PREFIXES.toolOutput), { recursive: true });
    await expect(reader.read(log.sessionId, 1500, 10)).rejects.toMatchObject({
      type: 'api_error',
      message: expect.stringMatching(/event sevt_1504 \(position 1504\).*tool-output\//),
    });
  });
});

describe('archiveIndex', () => {
  const archives: EventArchiveRef[] = [
    { firstPosition: 10, nextPosition: 20, key: 'events/s/10-a' },
    { firstPosition: 20, nextPosition: 25, key: 'events/s/20-b' },
    { firstPosition: 25, nextPosition: 40, key: 'events/s/25-c' },
  ];

  it('finds the archive holding a position at its first, inner and last positions, and none past the end', () => {
    expect([10, 15, 19, 20, 24, 25, 39, 40, 1000].map((position) => archiveIndex(archives, position))).toEqual([
      0, 0, 0, 1, 1, 2, 2, 3, 3,
    ]);
    expect(archiveIndex([], 0)).toBe(0);
  });
});

describe('SessionEventReader and the end of a run', () => {
  /** A query runner whose latest run first rejects the Query with `status`, then (if asked again) answers `page`. */
  function rejectingOnce(status: number, page: EventsPage, result: SessionWorkflowResult | null) {
    const calls = { runOpen: 0, run: 0, endedResult: 0 };
    const runner: SessionQueryRunner = {
      run: <Result>() => {
        calls.run += 1;
        return Promise.resolve(page as Result);
      },
      runOpen: <Result>() => {
        calls.runOpen += 1;
        if (calls.runOpen === 1) return Promise.reject(new QueryRejectedError(status));
        return Promise.resolve(page as Result);
      },
      // A running session has no result yet: asking for it would wait for as long as the session runs.
      endedResult: <Result>() => {
        calls.endedResult += 1;
        return result === null ? new Promise<Result>(() => undefined) : Promise.resolve(result as Result);
      },
    };
    return { calls, runner };
  }

  const running: EventsPage = { events: [], firstPosition: 40, nextPosition: 57, previousRunId: null, status: 'idle' };

  it('a Query refused by a run that has just continued as new is asked of the next run, not answered from a result', async () => {
    const continuedAsNew = 6;
    const { calls, runner } = rejectingOnce(continuedAsNew, running, null);
    const read = await new SessionEventReader(runner, blobStore()).read('sesn_handover', 56, 10);
    expect(read).toEqual({ events: [], nextPosition: 57, status: 'idle' });
    expect(calls).toEqual({ runOpen: 2, run: 0, endedResult: 0 });
  });

  it('a Query refused by a session that completed is answered from the archives its result names', async () => {
    const completed = 2;
    const result: SessionWorkflowResult = { eventCount: 12, usage: emptyUsage(), archives: [] };
    const { calls, runner } = rejectingOnce(completed, running, result);
    const read = await new SessionEventReader(runner, blobStore()).read('sesn_ended', 11, 10);
    expect(read).toEqual({ events: [], nextPosition: 12, status: 'terminated' });
    expect(calls).toEqual({ runOpen: 1, run: 0, endedResult: 1 });
  });
});
