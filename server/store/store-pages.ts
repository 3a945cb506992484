import type { StoredPage } from './control-plane-store';

/** Reads a page cursor written by a store: a non-negative integer position. */
export function parseCursor(cursor: string | null): number | null {
  if (cursor === null) return null;
  const position = Number(cursor);
  if (!/^\d+$/.test(cursor) || !Number.isSafeInteger(position)) throw new RangeError(`Not a page cursor: "${cursor}".`);
  return position;
}

/**
 * Turns the rows of a page query, which asks for one row more than `limit` to learn whether a next page exists, into
 * a page: at most `limit` items, and the cursor of the last one (its `cursorOf`) when more rows follow.
 */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  cursorOf: (row: Row) => number,
): StoredPage<Item> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(toItem),
    nextCursor: rows.length > limit && last !== undefined ? String(cursorOf(last)) : null,
  };
}
