import { isSessionId } from '../../common/ids';
import { invalidField } from '../api-error';

/** Where a session sits in a listing: sessions are ordered by start time, then id. */
export interface SessionKey {
  id: string;
  /** The session's creation time (its Workflow's start time, for a session from before listings). */
  startTime: string;
}

/** A listing cursor: the page after (`next`) or before (`prev`) the session `key`, in the listing's order. */
export interface SessionCursor {
  direction: 'next' | 'prev';
  key: SessionKey;
}

/** One page of a listing: its sessions in listing order and the cursors of its neighbours (`null` at either end). */
export interface SessionPage<Key extends SessionKey> {
  items: Key[];
  next: SessionCursor | null;
  prev: SessionCursor | null;
}

/** Compares two keys oldest first (start time, then id). */
export function compareKeys(a: SessionKey, b: SessionKey): number {
  return a.startTime === b.startTime ? a.id.localeCompare(b.id) : a.startTime.localeCompare(b.startTime);
}

/**
 * The page that `cursor` asks for among `keys` (any order): the first `limit` sessions after the cursor's session in
 * the listing order (`desc`: newest first), or with a `prev` cursor the last `limit` sessions before it. A cursor
 * outlives the session it names: the page is placed by the key alone, and `keys` need not hold the sessions on the
 * cursor's far side. Pure, so the paging rules are tested alone.
 */
export function selectPage<Key extends SessionKey>(
  keys: readonly Key[],
  order: 'asc' | 'desc',
  limit: number,
  cursor: SessionCursor | null,
): SessionPage<Key> {
  const listed = [...keys].sort((a, b) => (order === 'asc' ? compareKeys(a, b) : compareKeys(b, a)));
  const before = (key: SessionKey): boolean =>
    cursor !== null && (order === 'asc' ? compareKeys(key, cursor.key) < 0 : compareKeys(key, cursor.key) > 0);
  const after = (key: SessionKey): boolean =>
    cursor !== null && (order === 'asc' ? compareKeys(key, cursor.key) > 0 : compareKeys(key, cursor.key) < 0);
  let start: number;
  let end: number;
  if (cursor === null) {
    start = 0;
    end = Math.min(limit, listed.length);
  } else if (cursor.direction === 'next') {
    start = listed.findIndex(after);
    if (start < 0) start = listed.length;
    end = Math.min(start + limit, listed.length);
  } else {
    end = listed.findIndex((key) => !before(key));
    if (end < 0) end = listed.length;
    start = Math.max(0, end - limit);
  }
  const items = listed.slice(start, end);
  const first = items[0];
  const last = items.at(-1);
  // A cursor came from a page on its other side, so that side is never empty (the query may not have read it).
  const moreAfter = end < listed.length || cursor?.direction === 'prev';
  const moreBefore = start > 0 || cursor?.direction === 'next';
  return {
    items,
    next: moreAfter && last !== undefined ? { direction: 'next', key: keyOf(last) } : null,
    prev: moreBefore && first !== undefined ? { direction: 'prev', key: keyOf(first) } : null,
  };
}

/** The cursor as the API sends it: opaque, URL-safe. */
export function encodeCursor(cursor: SessionCursor): string {
  const direction = cursor.direction === 'next' ? 'n' : 'p';
  return Buffer.from(`${direction}|${cursor.key.startTime}|${cursor.key.id}`).toString('base64url');
}

/** Reads a cursor made by `encodeCursor`; a 400 naming `page` for anything else. */
export function decodeCursor(page: string): SessionCursor {
  const [direction, startTime, id, ...rest] = Buffer.from(page, 'base64url').toString().split('|');
  if (
    (direction !== 'n' && direction !== 'p') ||
    startTime === undefined ||
    Number.isNaN(Date.parse(startTime)) ||
    id === undefined ||
    !isSessionId(id) ||
    rest.length > 0
  ) {
    throw invalidField('page', 'page must be a next_page or prev_page cursor returned by an earlier page');
  }
  return { direction: direction === 'n' ? 'next' : 'prev', key: { id, startTime } };
}

function keyOf(key: SessionKey): SessionKey {
  return { id: key.id, startTime: key.startTime };
}
