import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { pageQueryFields } from '../../page-query';
import type { SessionResourceService } from './session-resource-service';
import { addResourceBody, updateResourceBody } from './session-resource-schemas';
import { parseOrThrow } from '../../validation';
import { withContract } from '../../openapi/route-contract';

const listQuery = z.object(pageQueryFields).loose();

type ResourceParams = { Params: { sessionId: string; resourceId: string } };

/** A session's resources: add, list, retrieve, update (repository tokens only) and delete. */
export function registerSessionResourceRoutes(app: FastifyInstance, resources: SessionResourceService): void {
  app.post<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId/resources',
    withContract({ summary: 'Add a resource to a session.', body: addResourceBody }),
    async (request) => {
      const body = parseOrThrow(addResourceBody, request.body ?? {}, '');
      return resources.add(request.params.sessionId, body);
    },
  );

  app.get<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId/resources',
    withContract({ summary: "List a session's resources.", query: listQuery }),
    async (request) => {
      const query = parseOrThrow(listQuery, request.query, '');
      return resources.list(request.params.sessionId, query.limit, query.page ?? null);
    },
  );

  app.get<ResourceParams>(
    '/v1/sessions/:sessionId/resources/:resourceId',
    withContract({ summary: 'Retrieve a session resource.' }),
    async (request) => resources.retrieve(request.params.sessionId, request.params.resourceId),
  );

  app.post<ResourceParams>(
    '/v1/sessions/:sessionId/resources/:resourceId',
    withContract({ summary: 'Update a session resource.', body: updateResourceBody }),
    async (request) => {
      const body = parseOrThrow(updateResourceBody, request.body ?? {}, '');
      return resources.update(request.params.sessionId, request.params.resourceId, body.authorization_token);
    },
  );

  app.delete<ResourceParams>(
    '/v1/sessions/:sessionId/resources/:resourceId',
    withContract({ summary: 'Remove a session resource.' }),
    async (request) => resources.delete(request.params.sessionId, request.params.resourceId),
  );
}
