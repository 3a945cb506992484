import { describe, expect, it } from 'vitest';
import { BLOB_PREFIXES } from '../common/blob-store';
import { EVENT_ARCHIVE_FORMAT } from '../common/events';
import type { EventArchiveRef, LoggedEvent } from '../common/events';
import type { EventsPage } from '../common/session';
import type { ArchiveRunIndexedInput } from '../activities/storage/archive-events';
import {
  archiveEvents,
  archiveRunIndexed,
  INDEX_PAGE_REFS,
  writeArchiveIndex,
} from '../activities/storage/archive-events';
import { SessionEventReader } from '../server/sessions/events/session-event-reader';
import type { SessionQueryRunner } from '../server/sessions/events/session-event-reader';
import { recordingBlobStores, storedEvent } from './support/fake-session-log';
import type { RecordingBlobStore } from './support/fake-session-log';

const SESSION = 'sesn_indexed_runs';
const EVENTS_PER_RUN = 5;
const blobStore = recordingBlobStores();

function runEvents(run: number): { firstPosition: number; nextPosition: number; events: LoggedEvent[] } {
  const firstPosition = run * EVENTS_PER_RUN;
  const events = Array.from({ length: EVENTS_PER_RUN }, (_, index) => storedEvent(firstPosition + index, false));
  return { firstPosition, nextPosition: firstPosition + EVENTS_PER_RUN, events };
}

/** A reader whose latest run starts at `firstPosition` with no events of its own, carrying `indexKey` and `archives`. */
function readerOf(
  blobs: RecordingBlobStore,
  firstPosition: number,
  indexKey: string,
  archives: EventArchiveRef[] = [],
) {
  const page: EventsPage = {
    events: [],
    firstPosition,
    nextPosition: firstPosition,
    previousRunId: null,
    archives,
    archiveIndexKey: indexKey,
    status: 'idle',
  };
  const runner: SessionQueryRunner = { run: <Result>() => Promise.resolve(page as Result) };
  return new SessionEventReader(runner, blobs);
}

async function indexedRuns(
  blobs: RecordingBlobStore,
  runs: number,
  start: { key: string | null; carried: EventArchiveRef[]; firstRun: number },
) {
  let key = start.key;
  let carried = start.carried;
  const keys: string[] = [];
  for (let run = start.firstRun; run < start.firstRun + runs; run++) {
    key = await archiveRunIndexed(
      { format: EVENT_ARCHIVE_FORMAT, sessionId: SESSION, ...runEvents(run), indexKey: key, carried },
      blobs,
    );
    carried = [];
    keys.push(key);
  }
  return keys;
}

describe('archiveRunIndexed', () => {
  it('each run carries one key; a cold reader follows about one page per eight runs and sees every event once', async () => {
    const blobs = blobStore();
    const runs = 20;
    const keys = await indexedRuns(blobs, runs, { key: null, carried: [], firstRun: 0 });
    expect(new Set(keys).size).toBe(runs);
    const reader = readerOf(blobs, runs * EVENTS_PER_RUN, keys.at(-1)!);
    const before = blobs.reads.length;
    const read = await reader.read(SESSION, -1, 1_000);
    expect(read.events.map((entry) => entry.position)).toEqual(
      Array.from({ length: runs * EVENTS_PER_RUN }, (_, index) => index),
    );
    const pageReads = blobs.reads
      .slice(before)
      .filter((key) => key.startsWith(`${BLOB_PREFIXES.events}${SESSION}/index-`));
    expect(pageReads).toHaveLength(Math.ceil(runs / INDEX_PAGE_REFS));
  });

  it('a retried run writes the same keys', async () => {
    const blobs = blobStore();
    const input: ArchiveRunIndexedInput = {
      format: EVENT_ARCHIVE_FORMAT,
      sessionId: SESSION,
      ...runEvents(0),
      indexKey: null,
      carried: [],
    };
    expect(await archiveRunIndexed(input, blobs)).toBe(await archiveRunIndexed(input, blobs));
  });

  it('a session whose older runs carried references and a folded page goes on from them without gap or repeat', async () => {
    const blobs = blobStore();
    const older: EventArchiveRef[] = [];
    for (let run = 0; run < 12; run++) {
      older.push(await archiveEvents({ format: EVENT_ARCHIVE_FORMAT, sessionId: SESSION, ...runEvents(run) }, blobs));
    }
    // As runs before the patch left it: nine references folded into a page, three still carried.
    const folded = await writeArchiveIndex({ sessionId: SESSION, previous: null, archives: older.slice(0, 9) }, blobs);
    const keys = await indexedRuns(blobs, 10, { key: folded, carried: older.slice(9), firstRun: 12 });
    const read = await readerOf(blobs, 22 * EVENTS_PER_RUN, keys.at(-1)!).read(SESSION, -1, 1_000);
    expect(read.events.map((entry) => entry.position)).toEqual(
      Array.from({ length: 22 * EVENTS_PER_RUN }, (_, index) => index),
    );
  });
});
