import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createEnvironmentBody, updateEnvironmentBody } from './environment-request-schemas';
import type { EnvironmentService } from './environment-service';
import { booleanQuery, pageQueryFields, toPageRequest } from '../page-query';
import { parseOrThrow } from '../validation';
import { withContract } from '../openapi/route-contract';

const listQuery = z.object({ ...pageQueryFields, include_archived: booleanQuery.default(false) }).loose();

type EnvironmentParams = { Params: { environmentId: string } };

/** The environment resource, at the SDK's paths: create, retrieve, update, list, delete and archive. */
export function registerEnvironmentRoutes(app: FastifyInstance, environments: EnvironmentService): void {
  app.post(
    '/v1/environments',
    withContract({ summary: 'Create an environment.', body: createEnvironmentBody }),
    async (request) => environments.create(parseOrThrow(createEnvironmentBody, request.body ?? {}, '')),
  );

  app.get<EnvironmentParams>(
    '/v1/environments/:environmentId',
    withContract({ summary: 'Retrieve an environment.' }),
    async (request) => environments.retrieve(request.params.environmentId),
  );

  app.post<EnvironmentParams>(
    '/v1/environments/:environmentId',
    withContract({ summary: 'Update an environment.', body: updateEnvironmentBody }),
    async (request) =>
      environments.update(request.params.environmentId, parseOrThrow(updateEnvironmentBody, request.body ?? {}, '')),
  );

  app.get('/v1/environments', withContract({ summary: 'List environments.', query: listQuery }), async (request) => {
    const query = parseOrThrow(listQuery, request.query, '');
    return environments.list({ ...toPageRequest(query), includeArchived: query.include_archived });
  });

  app.delete<EnvironmentParams>(
    '/v1/environments/:environmentId',
    withContract({ summary: 'Delete an environment.' }),
    async (request) => environments.delete(request.params.environmentId),
  );

  app.post<EnvironmentParams>(
    '/v1/environments/:environmentId/archive',
    withContract({ summary: 'Archive an environment.' }),
    async (request) => environments.archive(request.params.environmentId),
  );
}
