import { createServer } from 'node:http';
import type { Server } from 'node:http';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import type { KeelConfig } from '../common/config';
import { createWorker } from '../worker/create-worker';
import { createWorkerMetrics } from '../worker/metrics';
import type { WorkerMetrics } from '../worker/metrics';
import { prebuiltWorkflowBundle } from '../worker/prebuilt-workflow-bundle';
import { installRuntime } from '../worker/runtime-options';
import { findFreePort } from './temporal-dev-server';
import { startTracing } from './start-tracing';
import { sandboxClusterLabel } from '../common/sandbox';
import { openLiveEvents } from '../storage/open-live-events';

/**
 * Serves the worker's metrics at `GET /metrics` (Prometheus text format) on `host:port`, the Temporal runtime's after
 * Keel's; anything else is a 404.
 */
function serveMetrics(metrics: WorkerMetrics, host: string, port: number): Promise<Server> {
  const { registry } = metrics;
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    Promise.all([registry.metrics(), metrics.temporalPage()]).then(
      ([text, temporal]) =>
        response.writeHead(200, { 'content-type': registry.contentType }).end(`${text}\n${temporal}`),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * `keel worker`: a Worker alone, polling the session task queue of `TEMPORAL_ADDRESS` (default: the `keel up` dev
 * server's port on this machine). It runs until SIGINT / SIGTERM, when it stops polling and lets its running
 * Activities finish within the shutdown grace time (the Temporal SDK's own signal handling); what does not finish is
 * retried by another worker. Its model endpoint, Docker engine and data folder come from the same configuration as
 * the server's.
 */
export async function worker(config: KeelConfig): Promise<void> {
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}`;
  // Before the first connection, which would install the runtime with the SDK's default logger.
  // With KEEL_WORKER_METRICS_PORT, the runtime's own metrics (the SDK's worker metrics), served with the worker's.
  const temporalMetricsUrl = installRuntime(
    config.logs,
    'INFO',
    config.workerMetricsPort === 0 ? undefined : await findFreePort(),
    (line) => console.log(`keel worker: ${line}`),
  );
  const tracing = startTracing(config.tracing, 'keel-worker');
  const connection = await NativeConnection.connect({ address });
  let metricsServer: Server | undefined;
  // With PostgreSQL, the worker's events and text deltas reach every server's streams through LISTEN/NOTIFY.
  const bus = await openLiveEvents(config.database, {
    listen: false,
    workerInProcess: true,
    log: (line) => console.log(`keel worker: ${line}`),
  });
  try {
    const workflowBundle = await prebuiltWorkflowBundle(path.join(config.dataDir, 'cache'));
    const metrics = createWorkerMetrics({
      modelPrices: config.limits.modelPrices,
      ...(temporalMetricsUrl === undefined ? {} : { temporalMetricsUrl }),
    });
    const running = await createWorker({
      config,
      connection,
      bus,
      workflowBundle,
      metrics,
      sandboxCluster: sandboxClusterLabel(config.temporal.namespace, address),
      ...(tracing === undefined ? {} : { tracing }),
    });
    if (config.workerMetricsPort !== 0) {
      metricsServer = await serveMetrics(metrics, config.server.host, config.workerMetricsPort);
      console.log(`keel worker: metrics at http://${config.server.host}:${config.workerMetricsPort}/metrics`);
    }
    console.log(`keel worker: polling ${address} (namespace ${config.temporal.namespace})`);
    await running.run();
    console.log('keel worker: stopped');
  } finally {
    metricsServer?.close();
    await bus.close();
    await connection.close();
    await tracing?.shutdown();
  }
}
