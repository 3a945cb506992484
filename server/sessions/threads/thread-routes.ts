import type { FastifyInstance } from 'fastify';
import { withContract } from '../../openapi/route-contract';
import { parseOrThrow } from '../../validation';
import { eventListQuery, eventStreamQuery, listSessionEvents, streamSessionEvents } from '../events/event-routes';
import type { SessionEventSources } from '../events/event-routes';
import { requirePrimaryThread } from './primary-thread-id';
import type { SessionThreadService } from './session-thread-service';
import { threadListQuery } from './thread-request-schemas';

type ThreadParams = { Params: { sessionId: string; threadId: string } };

const THREAD = '/v1/sessions/:sessionId/threads/:threadId';

/**
 * The threads of a session (`sessions.threads` and `sessions.threads.events`): list, retrieve and archive, and the
 * thread's event list and stream. Keel serves each session's primary thread, its only one; the thread's events are the
 * session's, answered by the session's own list and stream code.
 */
export function registerSessionThreadRoutes(
  app: FastifyInstance,
  threads: SessionThreadService,
  sources: SessionEventSources,
): void {
  app.get<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId/threads',
    withContract({ summary: "List a session's threads (its primary thread).", query: threadListQuery }),
    async (request) => threads.list(request.params.sessionId, parseOrThrow(threadListQuery, request.query, '')),
  );

  app.get<ThreadParams>(THREAD, withContract({ summary: 'Retrieve a session thread.' }), async (request) =>
    threads.get(request.params.sessionId, request.params.threadId),
  );

  app.post<ThreadParams>(
    `${THREAD}/archive`,
    withContract({ summary: 'Archive a session thread (the primary thread cannot be archived).' }),
    async (request) => threads.archive(request.params.sessionId, request.params.threadId),
  );

  app.get<ThreadParams>(
    `${THREAD}/events`,
    withContract({ summary: "List a session thread's events.", query: eventListQuery }),
    async (request) => {
      requirePrimaryThread(request.params.sessionId, request.params.threadId);
      return listSessionEvents(sources, request.params.sessionId, request.query);
    },
  );

  app.get<ThreadParams>(
    `${THREAD}/stream`,
    withContract({
      summary: "Stream a session thread's events (Server-Sent Events).",
      query: eventStreamQuery,
      responseMediaType: 'text/event-stream',
    }),
    async (request, reply) => {
      requirePrimaryThread(request.params.sessionId, request.params.threadId);
      await streamSessionEvents(sources, request.params.sessionId, request, reply);
    },
  );
}
