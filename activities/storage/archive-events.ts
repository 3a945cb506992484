import { BLOB_PREFIXES } from '../../common/blob-store';
import type { BlobStore } from '../../common/blob-store';
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
