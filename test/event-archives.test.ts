import { describe, expect, it } from 'vitest';
import { wholeIterationWork } from '../activities/model/grade-outcome';
import { archiveEvents, archiveRunIndexed } from '../activities/storage/archive-events';
import { readArchivedEvents, requireContiguous } from '../common/event-archives';
import { EVENT_ARCHIVE_FORMAT } from '../common/events';
import type { EventArchive, EventArchiveRef, LoggedEvent } from '../common/events';
import { capWork, workItems } from '../common/iteration-work';
import { readStoredTexts } from '../common/stored-event-bodies';
import { recordingBlobStores, storedEvent, toolOutputText } from './support/fake-session-log';
import type { RecordingBlobStore } from './support/fake-session-log';

const blobStore = recordingBlobStores();
const RUN = 10;

/** Archives runs of `RUN` events from `firstRun` on: the first `indexed` ones in index pages, the rest loose. */
async function archivedRuns(
  blobs: RecordingBlobStore,
  sessionId: string,
  runs: { firstRun: number; indexed: number; loose: number },
): Promise<{ archives: EventArchiveRef[]; archiveIndexKey: string | null }> {
  const run = (index: number): EventArchive => {
    const firstPosition = index * RUN;
    const events = Array.from({ length: RUN }, (_, offset) => storedEvent(firstPosition + offset, true));
    return { format: EVENT_ARCHIVE_FORMAT, sessionId, firstPosition, nextPosition: firstPosition + RUN, events };
  };
  let archiveIndexKey: string | null = null;
  const archives: EventArchiveRef[] = [];
  for (let index = runs.firstRun; index < runs.firstRun + runs.indexed + runs.loose; index += 1) {
    if (index < runs.firstRun + runs.indexed) {
      archiveIndexKey = await archiveRunIndexed({ ...run(index), indexKey: archiveIndexKey, carried: [] }, blobs);
    } else archives.push(await archiveEvents(run(index), blobs));
  }
  for (let position = runs.firstRun * RUN; position < (runs.firstRun + runs.indexed + runs.loose) * RUN; position++) {
    await blobs.put(storedEvent(position, true).contentKey ?? 'none/none', Buffer.from(toolOutputText(position)));
  }
  return { archives, archiveIndexKey };
}

const positions = (events: LoggedEvent[]): number[] => events.map((entry) => entry.position);
const range = (from: number, until: number): number[] => Array.from({ length: until - from }, (_, i) => from + i);

describe('readArchivedEvents', () => {
  it('reads a position range across index pages and loose references, in log order, reading only the archives it needs', async () => {
    const blobs = blobStore();
    const where = await archivedRuns(blobs, 'sesn_archived_range', { firstRun: 0, indexed: 12, loose: 2 });
    blobs.reads.length = 0;
    const events = await readArchivedEvents(blobs, 'sesn_archived_range', where, { from: 57, until: 133 });
    expect(positions(events)).toEqual(range(57, 133));
    expect(events[3]).toEqual(storedEvent(60, true));
    const archivesRead = blobs.reads.filter((key) => !key.includes('/index-'));
    expect(archivesRead).toHaveLength(9);
  });

  it('leaves out the positions below the first archive (runs recorded before archives existed)', async () => {
    const blobs = blobStore();
    const where = await archivedRuns(blobs, 'sesn_archived_late', { firstRun: 3, indexed: 0, loose: 2 });
    const events = await readArchivedEvents(blobs, 'sesn_archived_late', where, { from: 12, until: 50 });
    expect(positions(events)).toEqual(range(30, 50));
  });

  it('fails through the given factory when an archive is missing, naming the positions and the key', async () => {
    const blobs = blobStore();
    const where = await archivedRuns(blobs, 'sesn_archived_missing', { firstRun: 0, indexed: 0, loose: 2 });
    await blobs.delete(where.archives[1]?.key ?? '');
    const fail = (message: string): Error => new RangeError(message);
    await expect(
      readArchivedEvents(blobs, 'sesn_archived_missing', where, { from: 0, until: 20 }, fail),
    ).rejects.toThrow(RangeError);
    await expect(readArchivedEvents(blobs, 'sesn_archived_missing', where, { from: 0, until: 20 })).rejects.toThrow(
      /events 10 to 19 of session sesn_archived_missing are archived under blob key events\//,
    );
    expect(() => requireContiguous('sesn_x', [{ firstPosition: 0, nextPosition: 5, key: 'events/a' }], 6)).toThrow(
      /not contiguous/,
    );
  });
});

describe('wholeIterationWork (the gradeOutcome Activity)', () => {
  it('reads the earlier runs’ part from the archives and the stored outputs, as if one run had logged it all', async () => {
    const blobs = blobStore();
    const sessionId = 'sesn_whole_iteration';
    const where = await archivedRuns(blobs, sessionId, { firstRun: 0, indexed: 3, loose: 1 });
    const from = 14;
    const until = 4 * RUN;
    // The grading run's own events, as the Workflow has them: stored bodies not filled in.
    const own = range(until, until + 12).map((position) => storedEvent(position, true));
    for (const entry of own) {
      await blobs.put(entry.contentKey ?? 'none/none', Buffer.from(toolOutputText(entry.position)));
    }
    const part = capWork(workItems(own));
    expect(part.storedResults.length).toBeGreaterThan(0);
    const work = await wholeIterationWork(
      {
        sessionId,
        model: 'm',
        rubric: { type: 'text', content: 'r' },
        description: 'd',
        ...part.work,
        iteration: 0,
        storedResults: part.storedResults,
        toolLineCount: part.toolLineCount,
        earlierEvents: { ...where, from, until },
      },
      blobs,
    );
    const all = [...range(from, until).map((position) => storedEvent(position, true)), ...own];
    const texts = await readStoredTexts(
      blobs,
      all.flatMap((entry) => (entry.contentKey ? [entry.contentKey] : [])),
    );
    expect(work).toEqual(capWork(workItems(all, texts)).work);
    expect(work.toolAccount).toContain(`result: ${toolOutputText(19)}`);
    expect(work.toolAccount.join('\n')).not.toContain('not shown');
    expect(work.toolAccount.join('\n')).not.toContain('(output stored)');
  });

  it('keeps an input from an older Workflow as it is, and says how many events no archive holds', async () => {
    const blobs = blobStore();
    const old = {
      sessionId: 'sesn_old_input',
      model: 'm',
      rubric: { type: 'text' as const, content: 'r' },
      description: 'd',
      agentMessages: ['done'],
      toolAccount: ['(3 earlier events of this iteration, in an earlier run, not shown)', 'call bash {}'],
      iteration: 0,
    };
    expect(await wholeIterationWork(old, blobs)).toEqual({
      agentMessages: old.agentMessages,
      toolAccount: old.toolAccount,
    });
    const where = await archivedRuns(blobs, 'sesn_partly_archived', { firstRun: 2, indexed: 0, loose: 1 });
    const work = await wholeIterationWork(
      {
        ...old,
        sessionId: 'sesn_partly_archived',
        toolAccount: [],
        toolLineCount: 0,
        earlierEvents: { ...where, from: 15, until: 30 },
      },
      blobs,
    );
    expect(work.toolAccount[0]).toBe('(5 earlier events of this iteration, in an earlier run, not shown)');
    expect(work.agentMessages.at(-1)).toBe('done');
    expect(work.agentMessages[0]).toBe('message 20');
  });
});
