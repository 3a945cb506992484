import type { PageRequest, StoredPage } from '../store/control-plane-store';

/**
 * A page of the records `read` lists (newest first) that pass `keep`: reads the store's pages, each no larger than
 * what is still wanted, until `limit` records passed or the listing ends, so the cursor returned is the position of
 * the last record read and no record is skipped or repeated across pages.
 */
export async function filteredPage<Item>(
  read: (page: PageRequest) => Promise<StoredPage<Item>>,
  keep: (item: Item) => boolean,
  request: PageRequest,
): Promise<StoredPage<Item>> {
  const items: Item[] = [];
  let cursor = request.cursor;
  for (;;) {
    const page = await read({ limit: request.limit - items.length, cursor });
    items.push(...page.items.filter(keep));
    cursor = page.nextCursor;
    if (cursor === null || items.length >= request.limit) return { items, nextCursor: cursor };
  }
}

/** Whether `time` (RFC 3339) lies within the bounds given (each optional). */
export function withinBounds(
  time: string,
  bounds: { gt?: string | undefined; gte?: string | undefined; lt?: string | undefined; lte?: string | undefined },
): boolean {
  const at = Date.parse(time);
  if (bounds.gt !== undefined && at <= Date.parse(bounds.gt)) return false;
  if (bounds.gte !== undefined && at < Date.parse(bounds.gte)) return false;
  if (bounds.lt !== undefined && at >= Date.parse(bounds.lt)) return false;
  if (bounds.lte !== undefined && at > Date.parse(bounds.lte)) return false;
  return true;
}
