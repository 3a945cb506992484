import type { FastifyInstance } from 'fastify';
import { withContract } from '../openapi/route-contract';
import { parseOrThrow } from '../validation';
import { createDreamBody, listDreamsQuery } from './dream-request-schemas';
import type { DreamService } from './dream-service';

type DreamParams = { Params: { dreamId: string } };

/** Dreams at the SDK's paths (`client.beta.dreams`): create, retrieve, list, archive and cancel. */
export function registerDreamRoutes(app: FastifyInstance, dreams: DreamService): void {
  app.post(
    '/v1/dreams',
    withContract({ summary: 'Create a dream.', body: createDreamBody, bodyRequired: true }),
    async (request) => dreams.create(parseOrThrow(createDreamBody, request.body ?? {}, '')),
  );

  app.get<DreamParams>('/v1/dreams/:dreamId', withContract({ summary: 'Retrieve a dream.' }), async (request) =>
    dreams.retrieve(request.params.dreamId),
  );

  app.get(
    '/v1/dreams',
    withContract({ summary: 'List dreams, newest first.', query: listDreamsQuery }),
    async (request) => {
      const query = parseOrThrow(listDreamsQuery, request.query, '');
      return dreams.list({
        limit: query.limit,
        page: query.page,
        includeArchived: query.include_archived,
        createdAfter: query['created_at[gt]'] ?? null,
        createdBefore: query['created_at[lt]'] ?? null,
        statuses: [query.statuses ?? [], query['statuses[]'] ?? []].flat(),
      });
    },
  );

  app.post<DreamParams>(
    '/v1/dreams/:dreamId/archive',
    withContract({ summary: 'Archive a completed, failed or canceled dream.' }),
    async (request) => dreams.archive(request.params.dreamId),
  );

  app.post<DreamParams>(
    '/v1/dreams/:dreamId/cancel',
    withContract({ summary: 'Cancel a pending or running dream.' }),
    async (request) => dreams.cancel(request.params.dreamId),
  );
}
