import type { FastifyInstance } from 'fastify';
import { withContract } from '../../openapi/route-contract';
import { parseOrThrow } from '../../validation';
import { eventListQuery, eventStreamQuery, listSessionEvents, streamSessionEvents } from '../events/event-routes';
import type { SessionEventSources } from '../events/event-routes';
import type { SessionThreadService } from './session-thread-service';
import { threadListQuery } from './thread-request-schemas';

type ThreadParams = { Params: { sessionId: string; threadId: string } };

const THREAD = '/v1/sessions/:sessionId/threads/:threadId';

/**
 * The threads of a session (`sessions.threads` and `sessions.threads.events`): list, retrieve and archive, and the
 * thread's event list and stream. A session has its primary thread, whose events are the session's, and in a
 * multiagent session the child threads its coordinator started, each with its own log (its own Workflow); both are
 * answered by the session's list and stream code, pointed at the thread's Workflow.
 */
export function registerSessionThreadRoutes(
  app: FastifyInstance,
  threads: SessionThreadService,
  sources: SessionEventSources,
): void {
  app.get<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId/threads',
    withContract({
      summary: "List a session's threads (its primary thread, then its child threads).",
      query: threadListQuery,
    }),
    async (request) => threads.list(request.params.sessionId, parseOrThrow(threadListQuery, request.query, '')),
  );

  app.get<ThreadParams>(THREAD, withContract({ summary: 'Retrieve a session thread.' }), async (request) =>
    threads.get(request.params.sessionId, request.params.threadId),
  );

  app.post<ThreadParams>(
    `${THREAD}/archive`,
    withContract({ summary: 'Archive an idle child thread (the primary thread cannot be archived).' }),
    async (request) => threads.archive(request.params.sessionId, request.params.threadId),
  );

  app.get<ThreadParams>(
    `${THREAD}/events`,
    withContract({ summary: "List a session thread's events.", query: eventListQuery }),
    async (request) => {
      const { sessionId, threadId } = request.params;
      const workflowId = await threads.eventsWorkflowId(sessionId, threadId);
      return listSessionEvents(sources, sessionId, request.query, { workflowId });
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
      const { sessionId, threadId } = request.params;
      const workflowId = await threads.eventsWorkflowId(sessionId, threadId);
      const target = workflowId === sessionId ? { workflowId } : { workflowId, childThreadId: threadId };
      await streamSessionEvents(sources, sessionId, request, reply, target);
    },
  );
}
