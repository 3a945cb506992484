import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SessionService } from '../session-service';
import { userEvent } from '../event-request-schemas';
import { parseOrThrow } from '../validation';

const agentReference = z.union([
  z.string().min(1),
  z.object({ type: z.literal('agent'), id: z.string().min(1), version: z.number().int().min(1).optional() }).strict(),
]);

const createSessionBody = z
  .object({
    agent: agentReference.optional(),
    environment_id: z.string().min(1).optional(),
    title: z.string().max(500).nullable().optional(),
    metadata: z.record(z.string().max(64), z.string().max(512)).optional(),
    initial_events: z.array(userEvent).max(50).optional(),
    vault_ids: z.array(z.string()).max(0, 'vaults are not supported by Keel yet').optional(),
    resources: z.array(z.unknown()).max(0, 'session resources are not supported by Keel yet').optional(),
    budget: z.null({ error: 'budgets are not supported by Keel yet' }).optional(),
  })
  .strict();

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }).loose();

/** The session resource: create, retrieve, list and delete (which ends the session and removes its sandbox). */
export function registerSessionRoutes(app: FastifyInstance, sessions: SessionService): void {
  app.post('/v1/sessions', async (request) => {
    const body = parseOrThrow(createSessionBody, request.body ?? {}, '');
    return sessions.create({
      agent: typeof body.agent === 'string' ? { id: body.agent } : body.agent,
      environmentId: body.environment_id,
      title: body.title ?? null,
      metadata: body.metadata ?? {},
      initialEvents: body.initial_events ?? [],
    });
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
