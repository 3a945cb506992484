import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { LoggedEvent } from '../../../common/events';
import type { SessionEventReader } from './session-event-reader';
import type { SessionFeeds } from './session-feed';
import type { SessionService } from '../session-service';
import { sendEventsBody } from './event-request-schemas';
import { latestPosition, readEventPage, resumePosition } from './event-page';
import type { EventPage } from './event-page';
import { resolveThreadReferences } from '../threads/thread-references';
import type { SessionThreadService } from '../threads/session-thread-service';
import { toApiError } from '../../api-error';
import { parseOrThrow } from '../../validation';
import { withContract } from '../../openapi/route-contract';

const time = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-04-01T00:00:00Z' });

const eventType = z.string().regex(/^[a-z_]+\.[a-z_]+$/, 'expected an event type such as agent.message');

/** The query of an event list: the session's (`…/events`) and a thread's (`…/threads/{id}/events`). */
export const eventListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    page: z.string().regex(/^\d+$/, 'page must be a cursor returned by the previous page').optional(),
    order: z.enum(['asc', 'desc']).default('asc'),
    types: z.union([eventType, z.array(eventType)]).optional(),
    'created_at[gt]': time.optional(),
    'created_at[gte]': time.optional(),
    'created_at[lt]': time.optional(),
    'created_at[lte]': time.optional(),
    'types[]': z.union([eventType, z.array(eventType)]).optional(),
  })
  .loose();

/** The query of an event stream: the session's (`…/events/stream`) and a thread's (`…/threads/{id}/stream`). */
export const eventStreamQuery = z
  .object({
    event_deltas: z.union([z.string(), z.array(z.string())]).optional(),
    'event_deltas[]': z.union([z.string(), z.array(z.string())]).optional(),
    after: z.coerce.number().int().min(-1).optional(),
  })
  .loose();

const KEEPALIVE_MS = 15_000;
/** How long a stream stays open after `session.status_terminated` for the `session.deleted` that follows it. */
const TERMINATED_GRACE_MS = 2_000;

/** What the event list and stream read: the session service (for its 404s), the log reader and the live feeds. */
export interface SessionEventSources {
  sessions: SessionService;
  reader: SessionEventReader;
  feeds: SessionFeeds;
}

/**
 * Which log an event list or stream reads: a session's Workflow (the session's events and its primary thread's), or a
 * child thread's Workflow (`threadWorkflowId`), whose stream ends with that thread's `session.thread_status_terminated`.
 */
export interface EventLogTarget {
  workflowId: string;
  /** The child thread whose log this is; absent for a session's. */
  childThreadId?: string;
}

/**
 * Session events: send (by Signal), list (pages over the log) and stream (Server-Sent Events, live). `threads` checks
 * the child threads a `user.interrupt` names.
 */
export function registerSessionEventRoutes(
  app: FastifyInstance,
  sessions: SessionService,
  reader: SessionEventReader,
  feeds: SessionFeeds,
  threads: Pick<SessionThreadService, 'childThreadIds'>,
): void {
  const sources: SessionEventSources = { sessions, reader, feeds };
  app.post<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId/events',
    withContract({ summary: 'Send events to a session.', body: sendEventsBody, bodyRequired: true }),
    async (request) => {
      const body = parseOrThrow(sendEventsBody, request.body, '');
      const sessionId = request.params.sessionId;
      const events = await resolveThreadReferences(sessionId, body.events, () => threads.childThreadIds(sessionId));
      return { data: await sessions.send(sessionId, events) };
    },
  );

  app.get<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId/events',
    withContract({ summary: "List a session's events.", query: eventListQuery }),
    async (request) => listSessionEvents(sources, request.params.sessionId, request.query),
  );

  app.get<{ Params: { sessionId: string } }>(
    '/v1/sessions/:sessionId/events/stream',
    withContract({
      summary: "Stream a session's events (Server-Sent Events).",
      query: eventStreamQuery,
      responseMediaType: 'text/event-stream',
    }),
    async (request, reply) => streamSessionEvents(sources, request.params.sessionId, request, reply),
  );
}

/**
 * A page of a log for a list request's query (`eventListQuery`): the answer of the session's event list and of its
 * primary thread's, which shows the same events (the session's Workflow), and of a child thread's (its own Workflow).
 */
export async function listSessionEvents(
  sources: SessionEventSources,
  sessionId: string,
  rawQuery: unknown,
  target: EventLogTarget = { workflowId: sessionId },
): Promise<EventPage> {
  const query = parseOrThrow(eventListQuery, rawQuery, '');
  await sources.sessions.requireExists(sessionId);
  return readEventPage(sources.reader, target.workflowId, {
    order: query.order,
    limit: query.limit,
    page: query.page === undefined ? undefined : Number(query.page),
    types: [query.types ?? [], query['types[]'] ?? []].flat(),
    createdAt: {
      gt: query['created_at[gt]'],
      gte: query['created_at[gte]'],
      lt: query['created_at[lt]'],
      lte: query['created_at[lte]'],
    },
  });
}

/**
 * Answers a stream request (`eventStreamQuery`) with the live events of a log (`target`: the session's by default,
 * which is also its primary thread's, or a child thread's). As the hosted stream, it delivers only what is logged after
 * it opened; `Last-Event-ID` (a position or an event id) or `?after=` resumes right after that event instead.
 */
export async function streamSessionEvents(
  sources: SessionEventSources,
  sessionId: string,
  request: FastifyRequest,
  reply: FastifyReply,
  target: EventLogTarget = { workflowId: sessionId },
): Promise<void> {
  const query = parseOrThrow(eventStreamQuery, request.query, '');
  await sources.sessions.requireExists(sessionId);
  const deltaTypes = [query.event_deltas ?? [], query['event_deltas[]'] ?? []].flat();
  const previews = {
    message: deltaTypes.includes('agent.message'),
    thinking: deltaTypes.includes('agent.thinking'),
  };
  const lastEventId = request.headers['last-event-id'];
  const after =
    typeof lastEventId === 'string' && lastEventId !== ''
      ? await resumePosition(sources.reader, target.workflowId, lastEventId)
      : (query.after ?? (await latestPosition(sources.reader, target.workflowId)));
  await streamEvents(reply, sources.feeds, target, after, previews);
}

/**
 * Writes the log's events as Server-Sent Events in the SDK's framing until the client leaves or the session (or the
 * child thread) ends, with the previews asked for: `agent.message` text deltas, and the start-only preview of
 * `agent.thinking`.
 */
async function streamEvents(
  reply: FastifyReply,
  feeds: SessionFeeds,
  target: EventLogTarget,
  after: number,
  previews: { message: boolean; thinking: boolean },
): Promise<void> {
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'request-id': String(reply.getHeader('request-id') ?? ''),
  });
  const started = new Set<string>();
  const logged = new Set<string>();
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    unsubscribe?.();
    response.end();
  };
  const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
  response.on('close', close);
  let unsubscribe: (() => void) | undefined;
  try {
    unsubscribe = await feeds.subscribe(target.workflowId, after, {
      onEvents: (events: LoggedEvent[]) => {
        for (const entry of events) {
          logged.add(entry.event.id);
          response.write(`event: ${entry.event.type}\nid: ${entry.position}\ndata: ${JSON.stringify(entry.event)}\n\n`);
          if (entry.event.type === 'session.deleted') close();
          // Sessions that ended before `session.deleted` existed end with this; others follow it with the deletion.
          else if (entry.event.type === 'session.status_terminated' || endsChildThread(entry.event, target)) {
            setTimeout(close, TERMINATED_GRACE_MS).unref();
          }
        }
      },
      ...(previews.thinking
        ? {
            onThinkingStarted: (eventId: string) => {
              if (logged.has(eventId) || started.has(eventId)) return;
              started.add(eventId);
              const start = { type: 'event_start', event: { id: eventId, type: 'agent.thinking' } };
              response.write(`event: event_start\ndata: ${JSON.stringify(start)}\n\n`);
            },
          }
        : {}),
      ...(previews.message
        ? {
            onTextDelta: (eventId: string, text: string) => {
              if (logged.has(eventId)) return false;
              if (!started.has(eventId)) {
                started.add(eventId);
                const start = { type: 'event_start', event: { id: eventId, type: 'agent.message' } };
                response.write(`event: event_start\ndata: ${JSON.stringify(start)}\n\n`);
              }
              const delta = {
                type: 'event_delta',
                event_id: eventId,
                delta: { type: 'content_delta', content: { type: 'text', text } },
              };
              response.write(`event: event_delta\ndata: ${JSON.stringify(delta)}\n\n`);
              return true;
            },
          }
        : {}),
      onError: (error: unknown) => {
        response.write(errorFrame(error));
        close();
      },
    });
    if (closed) unsubscribe();
    // Headers go out once the subscription is live: a client whose request resolved misses nothing after it, live
    // deltas included, even when the session has not produced anything yet.
    else response.flushHeaders();
  } catch (error) {
    response.write(errorFrame(error));
    close();
  }
}

/**
 * The stream's last frame when it ends on `error`: the Anthropic error shape, as a response would carry it
 * (`toApiError`: an unexpected error is logged and shown as an `api_error` that does not repeat its message).
 */
export function errorFrame(error: unknown): string {
  return `event: error\ndata: ${JSON.stringify(toApiError(error).toBody())}\n\n`;
}

/** Whether `event` is the termination of the child thread whose log `target` is (nothing follows it there). */
function endsChildThread(event: LoggedEvent['event'], target: EventLogTarget): boolean {
  if (target.childThreadId === undefined || (event.type as string) !== 'session.thread_status_terminated') return false;
  const threadId = (event as { session_thread_id?: unknown }).session_thread_id;
  return threadId === undefined || threadId === target.childThreadId;
}
