import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { IllegalStateError } from '@temporalio/common';
import { NativeConnection, Worker as TemporalWorker } from '@temporalio/worker';
import type { Worker, WorkflowBundleOption } from '@temporalio/worker';
import Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import { resolveSecretKey } from '../activities/credentials/secret-key-file';
import { SANDBOX_TOOL_NAMES } from '../common/agent';
import type { BlobStore } from '../common/blob-store';
import type { AgentSnapshot } from '../common/agent';
import { ConfigError, PROJECT_ROOT } from '../common/config';
import type { KeelConfig, LogConfig } from '../common/config';
import type { LiveEvents } from '../common/live-events';
import { sandboxClusterLabel } from '../common/sandbox';
import { SESSION_TASK_QUEUE } from '../common/task-queues';
import { createServer } from '../server/create-server';
import { DEPLOYMENT_TASK_QUEUE } from '../common/deployment';
import { deploymentActivities } from '../server/deployments/deployment-activities';
import type { ControlPlaneStore } from '../server/store/control-plane-store';
import { openControlPlaneStore } from '../server/store/open-control-plane-store';
import { openBlobStore } from '../storage/open-blob-store';
import { openLiveEvents } from '../storage/open-live-events';
import { createWorker } from '../worker/create-worker';
import { installRuntime } from '../worker/runtime-options';
import { temporalClientInterceptors } from '../server/temporal-client-interceptors';
import { startTracing } from './start-tracing';
import { createWorkerMetrics } from '../worker/metrics';
import { keelDataConverter } from '../worker/payload-store';
import { prebuiltWorkflowBundle } from '../worker/prebuilt-workflow-bundle';
import { startDemoModelServer } from './demo-model/demo-model-server';
import { findFreePort, resolveTemporalCliPath, startTemporalDevServer } from './temporal-dev-server';
import type { TemporalDevServer } from './temporal-dev-server';

/** Options of `startStack` beyond the configuration. */
export interface StackOptions {
  config: KeelConfig;
  apiKey: string;
  /** Run a worker in this process (the default); tests that kill workers run them as their own processes. */
  runWorker?: boolean;
  /**
   * `server`: the HTTP API alone (`keel server`), on the Temporal cluster of `TEMPORAL_ADDRESS`: no embedded dev
   * server, no worker, no demo model, and its health does not ask Docker (the workers own it).
   */
  role?: 'all' | 'server';
  workflowBundle?: WorkflowBundleOption;
  /** Where progress lines go. */
  log?: (line: string) => void;
}

/** A running Keel: Temporal (embedded or external), a worker, the HTTP API, and the demo model when no key is set. */
export interface Stack {
  apiUrl: string;
  apiKey: string;
  temporalAddress: string;
  temporalUiUrl: string | null;
  /** Set when the bundled offline demo model answers instead of a real model endpoint. */
  demoModelUrl: string | null;
  temporal: Client;
  /** The live events between workers and this process's server: the in-process bus, or the PostgreSQL channel. */
  bus: LiveEvents;
  worker: Worker | null;
  server: FastifyInstance;
  /** The control-plane store (the SQLite file `keel.sqlite` in the data folder). */
  store: ControlPlaneStore;
  /** The blob store shared by this process's worker and server (`KEEL_BLOB_STORE`: the data folder's, or S3). */
  blobs: BlobStore;
  stop(): Promise<void>;
}

/** The system prompt of Keel's default agent. */
const DEFAULT_SYSTEM_PROMPT =
  'You are a coding agent working in a Linux sandbox. Use the tools to run commands and edit files in /workspace. Be concise.';

/** The agent every session runs until agents are configured through the API. */
export function defaultAgent(config: KeelConfig, demo: boolean): AgentSnapshot {
  return {
    id: null,
    version: 1,
    name: 'keel-default',
    model: demo ? 'keel-demo' : config.model.name,
    system: DEFAULT_SYSTEM_PROMPT,
    maxTokens: 4096,
    tools: [...SANDBOX_TOOL_NAMES],
  };
}

/**
 * Starts Keel on one machine: the embedded Temporal dev server unless `TEMPORAL_ADDRESS` is set, the worker and the
 * HTTP API in this process. Everything started is stopped by `stop()`, in reverse order.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { config } = options;
  const runtimeMetricsUrl = await installQuietRuntime(config.logs);
  const log = options.log ?? (() => undefined);
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const step of stops.reverse()) await step().catch((error: unknown) => log(`stop: ${String(error)}`));
  };
  try {
    // Tracing (when the OTEL_* variables ask for it) starts first and stops last, so every span is exported.
    const tracing = startTracing(config.tracing, options.role === 'server' ? 'keel-server' : 'keel');
    if (tracing !== undefined) stops.push(() => tracing.shutdown());
    mkdirSync(config.dataDir, { recursive: true });
    let devServer: TemporalDevServer | null = null;
    let temporalAddress = config.temporal.address;
    const serverOnly = options.role === 'server';
    if (serverOnly && temporalAddress === undefined) {
      throw new ConfigError(
        'TEMPORAL_ADDRESS: keel server needs the address of the Temporal cluster its workers use (keel up embeds one)',
      );
    }
    if (temporalAddress === undefined) {
      const cliPath = resolveTemporalCliPath(PROJECT_ROOT, config.temporal.cliPath, config.temporal.searchPath);
      log(
        `starting the Temporal dev server on port ${config.temporal.devServerPort} (UI ${config.temporal.devServerUiPort})`,
      );
      devServer = await startTemporalDevServer({
        cliPath,
        port: config.temporal.devServerPort,
        uiPort: config.temporal.devServerUiPort,
        dbFilename: path.join(config.dataDir, 'temporal.sqlite'),
        namespace: config.temporal.namespace,
      });
      stops.push(() => devServer?.stop() ?? Promise.resolve());
      temporalAddress = devServer.address;
    }

    let demoModelUrl: string | null = null;
    if (!serverOnly && config.model.baseUrl === undefined && config.model.apiKey === undefined) {
      const demo = await startDemoModelServer();
      stops.push(() => demo.close());
      demoModelUrl = demo.baseUrl;
      log(`no model key configured: using the bundled offline demo model at ${demo.baseUrl}`);
    }

    const runsWorker = !serverOnly && (options.runWorker ?? true);
    const bus = await openLiveEvents(config.database, { listen: true, workerInProcess: runsWorker, log });
    stops.push(() => bus.close());
    const workerMetrics = createWorkerMetrics({
      modelPrices: config.limits.modelPrices,
      ...(runtimeMetricsUrl === undefined ? {} : { temporalMetricsUrl: runtimeMetricsUrl }),
    });
    const blobs = await openBlobStore(config);
    stops.push(() => Promise.resolve(blobs.close?.()));
    let worker: Worker | null = null;
    if (runsWorker) {
      const workerConnection = await NativeConnection.connect({ address: temporalAddress });
      stops.push(() => workerConnection.close());
      worker = await createWorker({
        config,
        connection: workerConnection,
        bus,
        workflowBundle: options.workflowBundle ?? (await prebuiltWorkflowBundle(path.join(config.dataDir, 'cache'))),
        blobs,
        metrics: workerMetrics,
        ...(tracing === undefined ? {} : { tracing }),
        sandboxCluster: sandboxClusterLabel(config.temporal.namespace, temporalAddress),
        ...(demoModelUrl === null ? {} : { modelBaseUrl: demoModelUrl }),
      });
      const running = worker.run();
      const runningWorker = worker;
      stops.push(async () => {
        if (runningWorker.getState() === 'RUNNING') runningWorker.shutdown();
        await running;
      });
    }

    const connection = await Connection.connect({ address: temporalAddress });
    stops.push(() => connection.close());
    const temporal = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: keelDataConverter({ blobs, dataDir: config.dataDir }),
      interceptors: { workflow: temporalClientInterceptors({ tracing: tracing !== undefined }) },
    });
    const docker = new Docker();
    const store = await openControlPlaneStore(config.database, config.dataDir);
    stops.push(() => store.close());
    const server = createServer({
      temporal,
      bus,
      blobs,
      apiKey: options.apiKey,
      agent: defaultAgent(config, demoModelUrl !== null),
      limits: config.limits,
      sandboxProvisioning: config.sandbox.provisioning,
      store,
      files: {
        dataDir: config.dataDir,
        maxBytes: config.files.maxBytes,
        // Across machines (an S3 bucket), uploaded content goes there too; the data folder is then a cache.
        ...(config.blobStore.kind === 's3' ? { shared: blobs } : {}),
      },
      rateLimits: config.rateLimits,
      logs: config.logs,
      ...(worker === null ? {} : { metricsRegistries: [workerMetrics.registry] }),
      metricsPages: [() => workerMetrics.temporalPage()],
      secretKey: resolveSecretKey(config.secretKey, config.dataDir),
      repositoryHosts: config.repositories.hosts,
      console: { temporalUiUrl: devServer?.uiUrl ?? null, temporalNamespace: config.temporal.namespace },
      healthChecks: [
        { name: 'temporal', check: async () => void (await connection.healthService.check({})) },
        {
          name: 'worker',
          check: async () => {
            const description = await temporal.workflowService.describeTaskQueue({
              namespace: config.temporal.namespace,
              taskQueue: { name: SESSION_TASK_QUEUE },
              taskQueueType: 1,
            });
            if ((description.pollers ?? []).length === 0) throw new Error(`no worker polls ${SESSION_TASK_QUEUE}`);
          },
        },
        ...(serverOnly ? [] : [{ name: 'docker', check: async () => void (await docker.ping()) }]),
      ],
    });
    const apiUrl = await server.listen({ host: config.server.host, port: config.server.port });
    stops.push(() => server.close());
    // Every server runs deployments' scheduled fires (an Activity-only worker): it owns session creation.
    const deploymentConnection = await NativeConnection.connect({ address: temporalAddress });
    stops.push(() => deploymentConnection.close());
    const deploymentWorker = await TemporalWorker.create({
      connection: deploymentConnection,
      namespace: config.temporal.namespace,
      taskQueue: DEPLOYMENT_TASK_QUEUE,
      dataConverter: keelDataConverter({ blobs, dataDir: config.dataDir }),
      activities: deploymentActivities(server.deployments),
    });
    const deploymentsRunning = deploymentWorker.run();
    stops.push(async () => {
      if (deploymentWorker.getState() === 'RUNNING') deploymentWorker.shutdown();
      await deploymentsRunning;
    });
    return {
      apiUrl,
      apiKey: options.apiKey,
      temporalAddress,
      temporalUiUrl: devServer?.uiUrl ?? null,
      demoModelUrl,
      temporal,
      bus,
      worker,
      server,
      store,
      blobs,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

let runtimeInstalled: Promise<string | undefined> | null = null;

/**
 * Installs the Temporal runtime once per process, logging as `logs` says: in text, warnings and errors only unless
 * `KEEL_LOG_LEVEL` says otherwise, so `keel up` output stays readable; and serving its own metrics on a loopback port.
 * Resolves to that page's address, `undefined` when another part of this process installed the runtime first.
 */
export function installQuietRuntime(logs: LogConfig): Promise<string | undefined> {
  runtimeInstalled ??= (async () => {
    const metricsPort = await findFreePort();
    try {
      return installRuntime(logs, 'WARN', metricsPort);
    } catch (error) {
      // Another part of this process installed the runtime first: its logger stays, and it serves no metrics page.
      if (error instanceof IllegalStateError) return undefined;
      throw error;
    }
  })();
  return runtimeInstalled;
}
