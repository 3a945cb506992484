import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MemoryActor } from '../../common/memory';
import { principalOf } from '../api-keys';
import { toPageRequest } from '../page-query';
import { withContract } from '../openapi/route-contract';
import { parseOrThrow } from '../validation';
import type { MemoryService } from './memory-service';
import {
  createMemoryBody,
  createMemoryStoreBody,
  deleteMemoryQuery,
  listMemoriesQuery,
  listMemoryStoresQuery,
  listMemoryVersionsQuery,
  updateMemoryBody,
  updateMemoryStoreBody,
  viewQuery,
  writeViewQuery,
} from './memory-store-request-schemas';
import type { MemoryStoreService } from './memory-store-service';

/** The `api_key_id` Keel records for writes made with the configured key (`KEEL_API_KEY`), which has no stored id. */
export const CONFIGURED_KEY_ID = 'apikey_configured';

type StoreParams = { Params: { memoryStoreId: string } };
type MemoryParams = { Params: { memoryStoreId: string; memoryId: string } };
type VersionParams = { Params: { memoryStoreId: string; memoryVersionId: string } };

/** Who a request writes as: the API key that authenticated it. */
function actorOf(request: FastifyRequest): MemoryActor {
  const principal = principalOf(request);
  const keyId = principal.kind === 'api' ? principal.keyId : undefined;
  return { type: 'api_actor', api_key_id: keyId ?? CONFIGURED_KEY_ID };
}

/**
 * Memory stores at the SDK's paths (`client.beta.memoryStores`): the 6 store methods, the 5 memory methods and the 3
 * version methods.
 */
export function registerMemoryStoreRoutes(
  app: FastifyInstance,
  stores: MemoryStoreService,
  memories: MemoryService,
): void {
  app.post(
    '/v1/memory_stores',
    withContract({ summary: 'Create a memory store.', body: createMemoryStoreBody }),
    async (request) => stores.create(parseOrThrow(createMemoryStoreBody, request.body ?? {}, '')),
  );

  app.get<StoreParams>(
    '/v1/memory_stores/:memoryStoreId',
    withContract({ summary: 'Retrieve a memory store.' }),
    async (request) => stores.retrieve(request.params.memoryStoreId),
  );

  app.post<StoreParams>(
    '/v1/memory_stores/:memoryStoreId',
    withContract({ summary: 'Update a memory store.', body: updateMemoryStoreBody }),
    async (request) =>
      stores.update(request.params.memoryStoreId, parseOrThrow(updateMemoryStoreBody, request.body ?? {}, '')),
  );

  app.get(
    '/v1/memory_stores',
    withContract({ summary: 'List memory stores.', query: listMemoryStoresQuery }),
    async (request) => {
      const query = parseOrThrow(listMemoryStoresQuery, request.query, '');
      return stores.list({
        ...toPageRequest(query),
        includeArchived: query.include_archived,
        createdAtOrAfter: query['created_at[gte]'] ?? null,
        createdAtOrBefore: query['created_at[lte]'] ?? null,
      });
    },
  );

  app.delete<StoreParams>(
    '/v1/memory_stores/:memoryStoreId',
    withContract({ summary: 'Delete a memory store with its memories and versions.' }),
    async (request) => stores.delete(request.params.memoryStoreId),
  );

  app.post<StoreParams>(
    '/v1/memory_stores/:memoryStoreId/archive',
    withContract({ summary: 'Archive a memory store.' }),
    async (request) => stores.archive(request.params.memoryStoreId),
  );

  app.post<StoreParams>(
    '/v1/memory_stores/:memoryStoreId/memories',
    withContract({ summary: 'Create a memory.', query: writeViewQuery, body: createMemoryBody, bodyRequired: true }),
    async (request) => {
      const { view } = parseOrThrow(writeViewQuery, request.query, '');
      const body = parseOrThrow(createMemoryBody, request.body ?? {}, '');
      return memories.create(request.params.memoryStoreId, body, view ?? 'basic', actorOf(request));
    },
  );

  app.get<MemoryParams>(
    '/v1/memory_stores/:memoryStoreId/memories/:memoryId',
    withContract({ summary: 'Retrieve a memory.', query: viewQuery }),
    async (request) => {
      const { view } = parseOrThrow(viewQuery, request.query, '');
      return memories.retrieve(request.params.memoryStoreId, request.params.memoryId, view ?? 'full');
    },
  );

  app.post<MemoryParams>(
    '/v1/memory_stores/:memoryStoreId/memories/:memoryId',
    withContract({
      summary: 'Update a memory (content, path, or both).',
      query: writeViewQuery,
      body: updateMemoryBody,
    }),
    async (request) => {
      const { view } = parseOrThrow(writeViewQuery, request.query, '');
      const body = parseOrThrow(updateMemoryBody, request.body ?? {}, '');
      const { memoryStoreId, memoryId } = request.params;
      return memories.update(memoryStoreId, memoryId, body, view ?? 'basic', actorOf(request));
    },
  );

  app.get<StoreParams>(
    '/v1/memory_stores/:memoryStoreId/memories',
    withContract({ summary: 'List memories.', query: listMemoriesQuery }),
    async (request) => memories.list(request.params.memoryStoreId, parseOrThrow(listMemoriesQuery, request.query, '')),
  );

  app.delete<MemoryParams>(
    '/v1/memory_stores/:memoryStoreId/memories/:memoryId',
    withContract({ summary: 'Delete a memory (its versions stay).', query: deleteMemoryQuery }),
    async (request) => {
      const query = parseOrThrow(deleteMemoryQuery, request.query, '');
      const { memoryStoreId, memoryId } = request.params;
      return memories.delete(memoryStoreId, memoryId, query.expected_content_sha256, actorOf(request));
    },
  );

  app.get<StoreParams>(
    '/v1/memory_stores/:memoryStoreId/memory_versions',
    withContract({ summary: 'List memory versions.', query: listMemoryVersionsQuery }),
    async (request) =>
      memories.listVersions(request.params.memoryStoreId, parseOrThrow(listMemoryVersionsQuery, request.query, '')),
  );

  app.get<VersionParams>(
    '/v1/memory_stores/:memoryStoreId/memory_versions/:memoryVersionId',
    withContract({ summary: 'Retrieve a memory version.', query: viewQuery }),
    async (request) => {
      const { view } = parseOrThrow(viewQuery, request.query, '');
      const { memoryStoreId, memoryVersionId } = request.params;
      return memories.retrieveVersion(memoryStoreId, memoryVersionId, view ?? 'full');
    },
  );

  app.post<VersionParams>(
    '/v1/memory_stores/:memoryStoreId/memory_versions/:memoryVersionId/redact',
    withContract({ summary: 'Redact a memory version.' }),
    async (request) =>
      memories.redactVersion(request.params.memoryStoreId, request.params.memoryVersionId, actorOf(request)),
  );
}
