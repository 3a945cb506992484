import { BLOB_PREFIXES } from '../../common/blob-store';
import type { BlobStore } from '../../common/blob-store';
import { readArchiveIndexPage } from '../../common/event-archives';
import { EVENT_ARCHIVE_INDEX_FORMAT } from '../../common/events';
import type { EventArchive, EventArchiveIndexPage, EventArchiveRef } from '../../common/events';
import { contentKey } from '../../storage/content-key';

/** Input of `archiveEvents`: one run's events, written once when the run continues-as-new. */
export type ArchiveEventsInput = EventArchive;

/**
 * Writes a run's events as one immutable blob, named by the session, the first position and the content's hash, so a
 * retried attempt writes the same key, and returns its reference for the next run to carry. Reading any page of a
 * closed run then costs one blob read instead of a replay of the run on a worker.
 */
export async function archiveEvents(input: ArchiveEventsInput, blobs: BlobStore): Promise<EventArchiveRef> {
  const body = Buffer.from(JSON.stringify(input), 'utf8');
  const key = contentKey(`${BLOB_PREFIXES.events}${input.sessionId}/${input.firstPosition}-`, body);
  await blobs.put(key, body);
  return { firstPosition: input.firstPosition, nextPosition: input.nextPosition, key };
}

/**
 * Input of `archiveRunIndexed`: the run's events (first, so the payload store still routes the input to the blob folder
 * by its first bytes), the newest index page the run carries and the references it still carries outside pages.
 */
export interface ArchiveRunIndexedInput extends EventArchive {
  indexKey: string | null;
  carried: EventArchiveRef[];
}

/** References an index page holds before the next run starts a new page after it. */
export const INDEX_PAGE_REFS = 8;

/**
 * Archives a run's events and indexes the archive at once, so a run carries one key into the next, whatever the number
 * of runs before it: the newest page is rewritten with the new reference until it holds `INDEX_PAGE_REFS`, then a new
 * page starts after it. A page a newer one replaces is never the `previous` of another, so the reader, which follows
 * `previous` from the newest page, sees each reference once. Both writes are content-addressed: a retry writes the
 * same keys.
 */
export async function archiveRunIndexed(input: ArchiveRunIndexedInput, blobs: BlobStore): Promise<string> {
  const { indexKey, carried, ...archive } = input;
  const reference = await archiveEvents(archive, blobs);
  const newest = indexKey === null ? null : await readArchiveIndexPage(blobs, input.sessionId, indexKey);
  const base =
    newest === null || indexKey === null || newest.archives.length >= INDEX_PAGE_REFS
      ? { previous: indexKey, archives: [] }
      : newest;
  return writeArchiveIndex(
    { sessionId: input.sessionId, previous: base.previous, archives: [...base.archives, ...carried, reference] },
    blobs,
  );
}

/** Input of `writeArchiveIndex`: the references to fold into a new index page, and the page before it. */
export interface WriteArchiveIndexInput {
  sessionId: string;
  previous: string | null;
  archives: EventArchiveRef[];
}

/** Writes one index page of archive references (content-addressed, so a retry writes the same key) and returns its key. */
export async function writeArchiveIndex(input: WriteArchiveIndexInput, blobs: BlobStore): Promise<string> {
  const page: EventArchiveIndexPage = {
    format: EVENT_ARCHIVE_INDEX_FORMAT,
    previous: input.previous,
    archives: input.archives,
  };
  const body = Buffer.from(JSON.stringify(page), 'utf8');
  const key = contentKey(`${BLOB_PREFIXES.events}${input.sessionId}/index-`, body);
  await blobs.put(key, body);
  return key;
}
