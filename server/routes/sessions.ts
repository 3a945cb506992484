import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SessionService } from '../session-service';
import { parseOrThrow } from '../validation';

const createSessionBody = z
  .object({
    title: z.string().max(500).nullable().optional(),
    metadata: z.record(z.string().max(64), z.string().max(512)).optional(),
  })
  .strict();

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }).loose();

/** The session resource: create, retrieve, list and delete (which ends the session and removes its sandbox). */
export function registerSessionRoutes(app: FastifyInstance, sessions: SessionService): void {
  app.post('/v1/sessions', async (request) => {
    const body = parseOrThrow(createSessionBody, request.body ?? {}, '');
    return sessions.create({ title: body.title ?? null, metadata: body.metadata ?? {} });
  });

  app.get<{ Params: { sessionId: string } }>('/v1/sessions/:sessionId', async (request) =>
    sessions.get(request.params.sessionId),
  );

  app.get('/v1/sessions', async (request) => {
    const query = parseOrThrow(listQuery, request.query, '');
    return { data: await sessions.list(query.limit), next_page: null };
  });

  app.delete<{ Params: { sessionId: string } }>('/v1/sessions/:sessionId', async (request) => {
    await sessions.end(request.params.sessionId);
    return { id: request.params.sessionId, type: 'session_deleted' };
  });
}
