import { z } from 'zod';
import { booleanQuery, pageQueryFields } from '../page-query';
import { requestBody } from '../request-body';

/** A store's name: 1 to 255 characters without control characters. */
const storeName = z
  .string({ error: (issue) => (issue.input === undefined ? 'name is required' : 'expected a string') })
  .min(1, 'must be 1 to 255 characters')
  .max(255, 'must be 1 to 255 characters')
  .refine((name) => !/\p{Cc}/u.test(name), 'must not contain control characters');

const storeDescription = z.string().max(1024, 'must be at most 1,024 characters');

/** The body of `POST /v1/memory_stores` (`MemoryStoreCreateParams`); metadata limits are checked by the service. */
export const createMemoryStoreBody = requestBody({
  name: storeName,
  description: storeDescription.optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

/** The body of `POST /v1/memory_stores/{id}` (`MemoryStoreUpdateParams`): omitted or `null` fields keep their value. */
export const updateMemoryStoreBody = requestBody({
  name: storeName.nullable().optional(),
  description: storeDescription.nullable().optional(),
  metadata: z.record(z.string(), z.string().nullable()).nullable().optional(),
});

/** An RFC 3339 time, turned into the store's normal form so that times compare as text. */
const timeQuery = z.iso
  .datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-04-01T00:00:00Z' })
  .transform((value) => new Date(value).toISOString());

/** The query of `GET /v1/memory_stores`. */
export const listMemoryStoresQuery = z
  .object({
    ...pageQueryFields,
    include_archived: booleanQuery.default(false),
    'created_at[gte]': timeQuery.optional(),
    'created_at[lte]': timeQuery.optional(),
  })
  .loose();

/** `view`: whether a memory or version in the answer carries its content. */
const view = z.enum(['basic', 'full'], { error: 'expected basic or full' });

/** The query of the reads that take only `view`. */
export const viewQuery = z.object({ view: view.optional() }).loose();

/** The query of the writes that take `view`: a parameter they do not know is refused, as a write's body field is. */
export const writeViewQuery = z.object({ view: view.optional() }).strict();

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hexadecimal characters');

/** The body of `POST /v1/memory_stores/{id}/memories` (`MemoryCreateParams`); path and size are checked by the service. */
export const createMemoryBody = requestBody({
  path: z.string({ error: (issue) => (issue.input === undefined ? 'path is required' : 'expected a string') }),
  content: z.string({ error: 'expected a string (pass "" for an empty memory)' }).nullable(),
});

/** The body of `POST /v1/memory_stores/{id}/memories/{memory_id}` (`MemoryUpdateParams`). */
export const updateMemoryBody = requestBody({
  path: z.string().nullable().optional(),
  content: z.string().nullable().optional(),
  precondition: z
    .object({
      type: z.literal('content_sha256', { error: 'expected content_sha256' }),
      content_sha256: sha256.optional(),
    })
    .strict()
    .optional(),
});

/** The memory list's own cursor: the last path of the previous page, base64url-encoded. */
const pathCursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/, 'expected a cursor returned by the previous page')
  .nullable()
  .optional();

/** The query of `GET /v1/memory_stores/{id}/memories` (`MemoryListParams`). */
export const listMemoriesQuery = z
  .object({
    limit: pageQueryFields.limit,
    page: pathCursor,
    depth: z.coerce.number().int('expected a whole number').min(0, 'must be 0 or more').max(20).optional(),
    path_prefix: z.string().max(1024).optional(),
    view: view.optional(),
  })
  .loose();

/** The query of `DELETE /v1/memory_stores/{id}/memories/{memory_id}` (`MemoryDeleteParams`). */
export const deleteMemoryQuery = z.object({ expected_content_sha256: sha256.optional() }).strict();

/** The query of `GET /v1/memory_stores/{id}/memory_versions` (`MemoryVersionListParams`). */
export const listMemoryVersionsQuery = z
  .object({
    ...pageQueryFields,
    api_key_id: z.string().max(128).optional(),
    'created_at[gte]': timeQuery.optional(),
    'created_at[lte]': timeQuery.optional(),
    memory_id: z.string().max(128).optional(),
    operation: z
      .enum(['created', 'modified', 'deleted'], { error: 'expected created, modified or deleted' })
      .optional(),
    service_account_id: z.string().max(128).optional(),
    session_id: z.string().max(128).optional(),
    view: view.optional(),
  })
  .loose();

/** A parsed store create body. */
export type CreateMemoryStoreBody = z.infer<typeof createMemoryStoreBody>;
/** A parsed store update body. */
export type UpdateMemoryStoreBody = z.infer<typeof updateMemoryStoreBody>;
/** A parsed memory create body. */
export type CreateMemoryBody = z.infer<typeof createMemoryBody>;
/** A parsed memory update body. */
export type UpdateMemoryBody = z.infer<typeof updateMemoryBody>;
/** A parsed memory list query. */
export type ListMemoriesQuery = z.infer<typeof listMemoriesQuery>;
/** A parsed version list query. */
export type ListMemoryVersionsQuery = z.infer<typeof listMemoryVersionsQuery>;
/** A response's `view`. */
export type MemoryView = z.infer<typeof view>;
