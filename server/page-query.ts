import { z } from 'zod';
import type { PageRequest, StoredPage } from './store/control-plane-store';

/** Query fields of every cursor-paged list: `limit` (1 to 100, default 20) and `page`, a cursor from an earlier page. */
export const pageQueryFields = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The SDK sends `page=` for a null page, so an empty value means the first page. */
  page: z
    .string()
    .regex(/^(\d{1,15})?$/, 'expected a cursor returned by the previous page')
    .nullable()
    .optional(),
};

/** A boolean query parameter as the SDK writes it (`true` / `false`). */
export const booleanQuery = z
  .enum(['true', 'false'], { error: 'expected true or false' })
  .transform((value) => value === 'true');

/** The store's page request for parsed `limit` and `page` fields. */
export function toPageRequest(query: { limit: number; page?: string | null | undefined }): PageRequest {
  return {
    limit: query.limit,
    cursor: query.page === undefined || query.page === null || query.page === '' ? null : query.page,
  };
}

/** A page in the SDK's `PageCursor` shape (`data`, `next_page`), each stored item turned into its API object. */
export function toPageResponse<Stored, View>(
  page: StoredPage<Stored>,
  view: (item: Stored) => View,
): { data: View[]; next_page: string | null } {
  return { data: page.items.map(view), next_page: page.nextCursor };
}
