import type { BlobStore } from './blob-store';
import { EVENT_ARCHIVE_FORMAT, EVENT_ARCHIVE_INDEX_FORMAT } from './events';
import type { EventArchive, EventArchiveIndexPage, EventArchiveRef, LoggedEvent } from './events';

/**
 * Reading the event archives that a session's runs wrote at continue-as-new (`EventArchiveRef`), pure over the
 * `BlobStore` interface: the server reads a session's log with it, and the `gradeOutcome` Activity the part of an
 * outcome's iteration that earlier runs logged. Each reader wraps it with its own caches and its own errors.
 */

/** Makes the error a reader throws when the archives are not as they should be (the server's is a 500 `api_error`). */
export type ArchiveFailure = (message: string) => Error;

const plainError: ArchiveFailure = (message) => new Error(message);
const decoder = new TextDecoder('utf-8');

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
export function requireContiguous(
  sessionId: string,
  archives: readonly EventArchiveRef[],
  firstPosition: number,
  fail: ArchiveFailure = plainError,
): void {
  archives.forEach((archive, index) => {
    const next = archives[index + 1]?.firstPosition ?? firstPosition;
    if (archive.firstPosition > archive.nextPosition || archive.nextPosition !== next) {
      throw fail(
        `The event archives of session ${sessionId} are not contiguous: ${archive.key} covers ` +
          `[${archive.firstPosition}, ${archive.nextPosition}) but the next events start at ${next}.`,
      );
    }
  });
}

/** The events of an archive blob, checked against its reference: format, same session and range, dense positions. */
export function parseArchive(
  sessionId: string,
  reference: EventArchiveRef,
  body: Uint8Array,
  fail: ArchiveFailure = plainError,
): LoggedEvent[] {
  const archive = JSON.parse(decoder.decode(body)) as EventArchive;
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
    throw fail(
      `The event archive ${reference.key} does not hold the events ${reference.firstPosition} to ` +
        `${reference.nextPosition - 1} of session ${sessionId}.`,
    );
  }
  return archive.events;
}

/** The events of one archive, read from the blob store and checked (`parseArchive`). */
export async function readArchive(
  blobs: BlobStore,
  sessionId: string,
  reference: EventArchiveRef,
  fail: ArchiveFailure = plainError,
): Promise<{ events: LoggedEvent[]; bytes: number }> {
  const body = await blobs.get(reference.key);
  if (body === null) {
    throw fail(
      `The events ${reference.firstPosition} to ${reference.nextPosition - 1} of session ${sessionId} are ` +
        `archived under blob key ${reference.key}, which the blob store does not have: the server and the ` +
        'workers must share one blob store.',
    );
  }
  return { events: parseArchive(sessionId, reference, body, fail), bytes: body.byteLength };
}

/** One archive index page, read from the blob store and checked. */
export async function readArchiveIndexPage(
  blobs: BlobStore,
  sessionId: string,
  key: string,
  fail: ArchiveFailure = plainError,
): Promise<EventArchiveIndexPage> {
  const body = await blobs.get(key);
  if (body === null) {
    throw fail(
      `The archive index ${key} of session ${sessionId} is not in the blob store: the server and the workers must ` +
        'share one blob store.',
    );
  }
  const page = JSON.parse(decoder.decode(body)) as EventArchiveIndexPage;
  if (page.format !== EVENT_ARCHIVE_INDEX_FORMAT) throw fail(`${key} is not an archive index page.`);
  return page;
}

/**
 * The archive references of the index page `key` and the pages before it, oldest first. `cached` is asked for a
 * page's flattened references before it is read (pages never change) and `remember` told each one flattened.
 */
export async function readArchiveIndex(
  blobs: BlobStore,
  sessionId: string,
  key: string | null,
  options: {
    fail?: ArchiveFailure;
    cached?: (key: string) => EventArchiveRef[] | undefined;
    remember?: (key: string, references: EventArchiveRef[]) => void;
  } = {},
): Promise<EventArchiveRef[]> {
  if (key === null) return [];
  const cached = options.cached?.(key);
  if (cached !== undefined) return cached;
  const page = await readArchiveIndexPage(blobs, sessionId, key, options.fail);
  const references = [...(await readArchiveIndex(blobs, sessionId, page.previous, options)), ...page.archives];
  options.remember?.(key, references);
  return references;
}

/** Where a session's archived events are: the references a run carries, loose and in index pages. */
export interface ArchivedEventsRef {
  archives: EventArchiveRef[];
  archiveIndexKey: string | null;
}

/**
 * The archived events of a session at positions in [`from`, `until`), in log order: those the archives hold
 * (positions below the first archive, logged by runs from before archives existed, are not there).
 */
export async function readArchivedEvents(
  blobs: BlobStore,
  sessionId: string,
  where: ArchivedEventsRef,
  range: { from: number; until: number },
  fail: ArchiveFailure = plainError,
): Promise<LoggedEvent[]> {
  const archives = [...(await readArchiveIndex(blobs, sessionId, where.archiveIndexKey, { fail })), ...where.archives];
  const events: LoggedEvent[] = [];
  for (let index = archiveIndex(archives, range.from); index < archives.length; index += 1) {
    const reference = archives[index];
    if (reference === undefined || reference.firstPosition >= range.until) break;
    const { events: archived } = await readArchive(blobs, sessionId, reference, fail);
    events.push(...archived.filter((entry) => entry.position >= range.from && entry.position < range.until));
  }
  return events;
}
