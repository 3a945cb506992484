import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, selectPage } from '../server/sessions/session-pages';
import type { SessionKey } from '../server/sessions/session-pages';

const keys: SessionKey[] = [
  { id: 'sesn_c', startTime: '2026-01-01T00:00:02.000Z' },
  { id: 'sesn_a', startTime: '2026-01-01T00:00:01.000Z' },
  { id: 'sesn_b', startTime: '2026-01-01T00:00:01.000Z' },
  { id: 'sesn_d', startTime: '2026-01-01T00:00:03.000Z' },
  { id: 'sesn_e', startTime: '2026-01-01T00:00:04.000Z' },
];
const ids = (page: { items: SessionKey[] }): string[] => page.items.map((key) => key.id);

describe('selectPage', () => {
  it('pages newest first by start time then id, with next and prev cursors that round-trip', () => {
    const first = selectPage(keys, 'desc', 2, null);
    expect(ids(first)).toEqual(['sesn_e', 'sesn_d']);
    expect(first.prev).toBeNull();
    const second = selectPage(keys, 'desc', 2, first.next);
    expect(ids(second)).toEqual(['sesn_c', 'sesn_b']);
    const third = selectPage(keys, 'desc', 2, second.next);
    expect(ids(third)).toEqual(['sesn_a']);
    expect(third.next).toBeNull();
    expect(ids(selectPage(keys, 'desc', 2, third.prev))).toEqual(['sesn_c', 'sesn_b']);
    const back = selectPage(keys, 'desc', 2, second.prev);
    expect(ids(back)).toEqual(['sesn_e', 'sesn_d']);
    expect(back.prev).toBeNull();
    expect(back.next).toEqual(first.next);
  });

  it('pages oldest first the same way, ties broken by id', () => {
    const first = selectPage(keys, 'asc', 3, null);
    expect(ids(first)).toEqual(['sesn_a', 'sesn_b', 'sesn_c']);
    const second = selectPage(keys, 'asc', 3, first.next);
    expect(ids(second)).toEqual(['sesn_d', 'sesn_e']);
    expect(ids(selectPage(keys, 'asc', 3, second.prev))).toEqual(['sesn_a', 'sesn_b', 'sesn_c']);
  });

  it('places a page by the cursor key alone, so a cursor outlives a deleted session', () => {
    const gone = { direction: 'next' as const, key: { id: 'sesn_zz', startTime: '2026-01-01T00:00:02.500Z' } };
    expect(ids(selectPage(keys, 'desc', 10, gone))).toEqual(['sesn_c', 'sesn_b', 'sesn_a']);
    expect(ids(selectPage(keys, 'desc', 10, { ...gone, direction: 'prev' }))).toEqual(['sesn_e', 'sesn_d']);
  });

  it('encodes cursors opaquely and refuses anything else with a 400 naming page', () => {
    const cursor = { direction: 'prev' as const, key: { id: 'sesn_abc123456', startTime: '2026-01-01T00:00:00.000Z' } };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(() => decodeCursor('bm90LWEtY3Vyc29y')).toThrow(/page/);
    expect(() => decodeCursor(Buffer.from('n|yesterday|sesn_abc').toString('base64url'))).toThrow(/page/);
  });
});
