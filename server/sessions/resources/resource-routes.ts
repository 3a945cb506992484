import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { pageQueryFields } from '../../page-query';
import type { SessionResourceService } from './session-resource-service';
import { addResourceBody, updateResourceBody } from './session-resource-schemas';
import { parseOrThrow } from '../../validation';

const listQuery = z.object(pageQueryFields).loose();

type ResourceParams = { Params: { sessionId: string; resourceId: string } };

/** A session's resources: add, list, retrieve, update (repository tokens only) and delete. */
export function registerSessionResourceRoutes(app: FastifyInstance, resources: SessionResourceService): void {
  app.post<{ Params: { sessionId: string } }>('/v1/sessions/:sessionId/resources', async (request) => {
    const body = parseOrThrow(addResourceBody, request.body ?? {}, '');
    return resources.add(request.params.sessionId, body);
  });

  app.get<{ Params: { sessionId: string } }>('/v1/sessions/:sessionId/resources', async (request) => {
    const query = parseOrThrow(listQuery, request.query, '');
    return resources.list(request.params.sessionId, query.limit, query.page ?? null);
  });

  app.get<ResourceParams>('/v1/sessions/:sessionId/resources/:resourceId', async (request) =>
    resources.retrieve(request.params.sessionId, request.params.resourceId),
  );

  app.post<ResourceParams>('/v1/sessions/:sessionId/resources/:resourceId', async (request) => {
    const body = parseOrThrow(updateResourceBody, request.body ?? {}, '');
    return resources.update(request.params.sessionId, request.params.resourceId, body.authorization_token);
  });

  app.delete<ResourceParams>('/v1/sessions/:sessionId/resources/:resourceId', async (request) =>
    resources.delete(request.params.sessionId, request.params.resourceId),
  );
}
