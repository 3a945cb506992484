import { createServer } from 'node:http';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Registry } from 'prom-client';
import { NativeConnection } from '@temporalio/worker';
import type { KeelConfig } from '../common/config';
import { LiveEventBus } from '../common/live-events';
import { createWorker } from '../worker/create-worker';
import { createWorkerMetrics } from '../worker/metrics';
import { prebuiltWorkflowBundle } from '../worker/prebuilt-workflow-bundle';
import { sandboxClusterLabel } from '../common/sandbox';

/** Serves `registry` at `GET /metrics` (Prometheus text format) on `host:port`; anything else is a 404. */
function serveMetrics(registry: Registry, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
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
  const connection = await NativeConnection.connect({ address });
  let metricsServer: Server | undefined;
  try {
    const workflowBundle = await prebuiltWorkflowBundle(path.join(config.dataDir, 'cache'));
    const metrics = createWorkerMetrics();
    const running = await createWorker({
      config,
      connection,
      bus: new LiveEventBus(),
      workflowBundle,
      metrics,
      sandboxCluster: sandboxClusterLabel(config.temporal.namespace, address),
    });
    if (config.workerMetricsPort !== 0) {
      metricsServer = await serveMetrics(metrics.registry, config.server.host, config.workerMetricsPort);
      console.log(`keel worker: metrics at http://${config.server.host}:${config.workerMetricsPort}/metrics`);
    }
    console.log(`keel worker: polling ${address} (namespace ${config.temporal.namespace})`);
    await running.run();
    console.log('keel worker: stopped');
  } finally {
    metricsServer?.close();
    await connection.close();
  }
}
