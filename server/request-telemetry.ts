import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { LogController } from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { LogConfig } from '../common/config';
import { KEEL_TRACER_NAME, REQUEST_ID_ATTRIBUTE, SESSION_ID_ATTRIBUTE } from '../common/telemetry-attributes';
import { runInRequestScope } from './request-scope';
import type { RequestScope } from './request-scope';

/** A new request id, as the `request-id` response header carries it: `req_` and 24 hex digits. */
export function newRequestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}

/**
 * Fastify's logging options for `logs`: with `json`, pino writing one JSON object a line to stdout (`time` in ISO 8601,
 * `level` by name, the request's id as `request_id`), and no line of Fastify's own per request (`finish` writes one);
 * with `text`, no logger (the server prints no line per request).
 */
export function serverLogOptions(logs: LogConfig | undefined): Pick<FastifyServerOptions, 'logger' | 'logController'> {
  if (logs?.format !== 'json') return { logger: false };
  return {
    logger: {
      level: logs.level ?? 'info',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
  };
}

/** What `registerRequestTelemetry` keeps of a request between its hooks. */
interface RequestTelemetry {
  scope: RequestScope;
  span: Span;
  /** The request's span in its parent's context: where the handler runs. */
  spanContext: Context;
  startedAt: number;
}

const requests = new WeakMap<FastifyRequest, RequestTelemetry>();

/** What load balancers and scrapers ask every few seconds: no span, and their log lines at `debug`. */
const PROBE_PATHS = new Set(['/health', '/metrics']);

/**
 * Gives every request a log line and, but for probes, a server span, both with its request id and, when known, its
 * session id (see `sessionScopeInterceptor`). The span continues the caller's trace (W3C `traceparent`) and is the current span while
 * the handler runs, so the Temporal client's spans, and through their headers the Workflow's and the Activities',
 * belong to it. Register it first: its `onRequest` hook must run before authentication, which may refuse the request.
 */
export function registerRequestTelemetry(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const parent = propagation.extract(context.active(), request.headers);
    const path = request.url.split('?')[0] ?? '';
    const attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: request.method,
      [ATTR_URL_PATH]: path,
      [REQUEST_ID_ATTRIBUTE]: request.id,
    };
    const span = PROBE_PATHS.has(path)
      ? trace.wrapSpanContext(INVALID_SPAN_CONTEXT)
      : trace.getTracer(KEEL_TRACER_NAME).startSpan(request.method, { kind: SpanKind.SERVER, attributes }, parent);
    const telemetry: RequestTelemetry = {
      scope: { requestId: request.id, sessionId: undefined, workspaceId: undefined },
      span,
      spanContext: trace.setSpan(parent, span),
      startedAt: performance.now(),
    };
    requests.set(request, telemetry);
    // 'close' comes for every response: sent whole, cut off by the client, or an event stream that ended.
    reply.raw.once('close', () => finish(request, reply, telemetry));
    done();
  });
  // The last step before the handler, after the body was read (its 'data' events run outside any request's context):
  // the handler and everything it awaits run with the request's span and scope.
  app.addHook('preHandler', (request, _reply, done) => {
    const telemetry = requests.get(request);
    if (telemetry === undefined) {
      done();
      return;
    }
    context.with(telemetry.spanContext, () => runInRequestScope(telemetry.scope, () => done()));
  });
}

/** Ends the request's span and writes its log line. */
function finish(request: FastifyRequest, reply: FastifyReply, telemetry: RequestTelemetry): void {
  const { span, scope } = telemetry;
  const status = reply.raw.statusCode;
  const route = request.routeOptions.url;
  const sessionId = scope.sessionId ?? sessionIdParameter(request.params);
  span.updateName(route === undefined ? request.method : `${request.method} ${route}`);
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (route !== undefined) span.setAttribute(ATTR_HTTP_ROUTE, route);
  if (sessionId !== undefined) span.setAttribute(SESSION_ID_ATTRIBUTE, sessionId);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
  const spanContext = span.spanContext();
  const path = request.url.split('?')[0] ?? '';
  const line = {
    session_id: sessionId,
    trace_id: isSpanContextValid(spanContext) ? spanContext.traceId : undefined,
    method: request.method,
    path,
    route,
    status,
    duration_ms: Math.round((performance.now() - telemetry.startedAt) * 10) / 10,
    // The client went away before the whole response was sent (an event stream it closed, a dropped connection).
    ...(reply.raw.writableFinished ? {} : { aborted: true }),
  };
  if (status >= 500) request.log.error(line, 'request failed');
  else if (PROBE_PATHS.has(path)) request.log.debug(line, 'request completed');
  else request.log.info(line, 'request completed');
}

/** The session a route names in its path (`/v1/sessions/:sessionId/...`), if any. */
function sessionIdParameter(parameters: unknown): string | undefined {
  if (typeof parameters !== 'object' || parameters === null || !('sessionId' in parameters)) return undefined;
  return typeof parameters.sessionId === 'string' ? parameters.sessionId : undefined;
}
