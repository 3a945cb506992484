import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SessionStatus } from '../common/events';
import { withContract } from './openapi/route-contract';

const SESSION_STATUSES: SessionStatus[] = ['idle', 'running', 'rescheduling', 'terminated'];

/** What a worker's text delta waits, in seconds, from the model's text reaching the worker to a stream of this server. */
export const LIVE_DELTA_METRIC = 'keel_live_delta_delay_seconds';

/**
 * The histogram of how long text deltas take from the worker that produced them to this server's streams
 * (`LIVE_DELTA_METRIC`; across machines it includes the difference of their clocks, and a negative delay, a worker's
 * clock ahead of the server's, counts as 0), in a registry of its own that `registerMetrics` serves, and the observer
 * the server's feeds report to.
 */
export function liveDeltaMetrics(): { registry: Registry; observe: (delayMs: number) => void } {
  const registry = new Registry();
  const delay = new Histogram({
    name: LIVE_DELTA_METRIC,
    help: 'Time from the model text reaching a worker to its text delta being written to a stream of this server',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, observe: (delayMs) => delay.observe(Math.max(0, delayMs) / 1000) };
}

/**
 * The server's Prometheus metrics (`prom-client`): HTTP requests by route pattern and status with their latency,
 * sessions by status (counted in Temporal's visibility store when scraped), and Node's process metrics. Served at
 * `GET /metrics` in the Prometheus text format, with the registries of a worker in the same process (`keel up`)
 * merged in. Like `/health`, it needs no API key: it holds counts, never content.
 */
export function registerMetrics(
  app: FastifyInstance,
  temporal: Client,
  otherRegistries: Registry[] = [],
  otherPages: (() => Promise<string>)[] = [],
): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keel_server_' });
  const requests = new Counter({
    name: 'keel_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'keel_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (an event stream counts until it closes), by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'keel_sessions',
    help: 'Sessions by status (terminated: ended sessions still in the visibility store)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      for (const status of SESSION_STATUSES) {
        const running = status === 'terminated' ? "ExecutionStatus != 'Running'" : `KeelStatus = '${status}'`;
        const query = `WorkflowType = 'sessionWorkflow' AND ${running}`;
        this.set({ status }, (await temporal.workflow.count(query)).count);
      }
    },
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  const merged = Registry.merge([registry, ...otherRegistries]);
  app.get(
    '/metrics',
    withContract({ summary: 'Prometheus metrics.', public: true, responseMediaType: 'text/plain' }),
    async (_request, reply) => {
      void reply.header('content-type', merged.contentType);
      const pages = await Promise.all([merged.metrics(), ...otherPages.map((page) => page())]);
      return pages.join('\n');
    },
  );
}
