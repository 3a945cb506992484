import Anthropic from '@anthropic-ai/sdk';
import { Worker } from '@temporalio/worker';
import type { InjectedSinks, WorkflowBundleOption, NativeConnection } from '@temporalio/worker';
import Docker from 'dockerode';
import { resolveSecretKey } from '../activities/credentials/secret-key-file';
import { createMcpActivities } from '../activities/mcp/create-mcp-activities';
import { createModelActivities } from '../activities/model/create-model-activities';
import { uploadedFileReader } from '../activities/model/resolve-media';
import { WEB_FETCH_TOOL_DEFINITION } from '../activities/model/web-fetch-tool-definition';
import { WEB_SEARCH_TOOL_DEFINITION } from '../activities/model/web-search-tool-definition';
import { createSandboxActivities } from '../activities/sandbox/create-sandbox-activities';
import { createSelfHostedActivities } from '../activities/self-hosted/sqlite-work-queue';
import { ConversationStore } from '../activities/storage/conversation-store';
import { createStorageActivities } from '../activities/storage/create-storage-activities';
import { withStoredOutput } from '../activities/storage/store-tool-output';
import { SandboxNetworks } from '../activities/sandbox/network/sandbox-networks';
import { SANDBOX_TOOL_DEFINITIONS } from '../activities/sandbox/tool-definitions';
import { createWebFetchActivities } from '../activities/web-fetch/create-web-fetch-activities';
import { createWebSearchActivities } from '../activities/web-search/create-web-search-activities';
import { SearxngSearchProvider } from '../activities/web-search/searxng-search-provider';
import type { BlobStore } from '../common/blob-store';
import type { KeelConfig } from '../common/config';
import type { LiveEventSinks, LiveEvents } from '../common/live-events';
import type { Tool } from '../common/model';
import { SESSION_TASK_QUEUE } from '../common/task-queues';
import { openBlobStore } from '../storage/open-blob-store';
import { closeWhenStopped } from './close-when-stopped';
import { limitHeapGrowth } from './heap-growth';
import { openWorkerControlPlane } from './worker-control-plane';
import { registerSandboxCount } from './metrics';
import type { WorkerMetrics } from './metrics';
import { countOwnSandboxes } from '../activities/sandbox/count-own-sandboxes';
import { workerTracing } from './worker-tracing';
import { workflowBuildId } from './workflow-build-id';
import { setWorkflowStackTraces } from './workflow-stack-traces';
import type { WorkerTracing } from './worker-tracing';
import { keelDataConverter } from './payload-store';
import { hostname } from 'node:os';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { removeOrphanSandboxes } from '../activities/sandbox/remove-orphan-sandboxes';
import { removeOrphanWorkspaceDisks } from '../activities/sandbox/remove-orphan-workspace-disks';
import { checkWorkspaceDisks } from '../activities/sandbox/workspace-disk';
import type { SandboxOptions } from '../activities/sandbox/sandbox-options';
import { WarmPool } from '../activities/sandbox/warm-pool';
import { RunnerPool } from '../activities/sandbox/runner/runner-pool';

/** What a worker needs besides the configuration. */
export interface CreateWorkerOptions {
  config: KeelConfig;
  connection: NativeConnection;
  bus: LiveEvents;
  /** The bundled Workflow code: see `prebuiltWorkflowBundle`. */
  workflowBundle: WorkflowBundleOption;
  /** The model endpoint; defaults to the configured one. */
  modelBaseUrl?: string;
  identity?: string;
  /**
   * The cluster this worker's sandboxes are labelled with (`sandboxClusterLabel`); when given, the worker removes, as
   * it starts, the containers and volumes of that cluster's sessions that no longer run.
   */
  sandboxCluster?: string;
  /** The blob store shared by every worker and server of this Keel; defaults to the configured one (`openBlobStore`). */
  blobs?: BlobStore;
  /** Where the worker's Activity metrics go (`createWorkerMetrics`); none recorded when absent. */
  metrics?: WorkerMetrics;
  /** Where the worker's spans go (`startTracing`); without it the worker exports none. */
  tracing?: WorkerTracing;
}

/**
 * Wires a Temporal Worker that hosts the session Workflow and every Activity: the model client (`maxRetries: 0`,
 * Temporal owns retries), the Docker sandbox (with its networks and egress proxy, closed when the worker stops) and
 * the live-event sink.
 */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { config, bus } = options;
  // A V8 flag, so for the whole process that hosts the worker (`keel worker`, `keel up`); setting it again is harmless.
  limitHeapGrowth(config.workerHeapGrowingPercent);
  // Read by each Workflow thread as `Worker.create` starts it; for the whole process, as the flag above.
  setWorkflowStackTraces(config.workflowStackTraces);
  // A quota that this host cannot give stops the start, rather than sandboxes running without one.
  if (config.sandbox.disk !== undefined) await checkWorkspaceDisks(config.sandbox.disk);
  // Vault credentials and repository tokens are read inside Activities, from the encrypted store; Workflows carry
  // vault and resource ids only.
  const secretKey = resolveSecretKey(config.secretKey, config.dataDir);
  const controlPlane = openWorkerControlPlane(config.database, config.dataDir, secretKey);
  const { credentials, repositoryTokens, workQueue } = controlPlane;
  const image = config.sandbox.image;
  if (image === undefined) {
    throw new Error('No sandbox image: set KEEL_SANDBOX_IMAGE or run `npm run setup` to build keel-sandbox.');
  }
  const client = new Anthropic({
    baseURL: options.modelBaseUrl ?? config.model.baseUrl ?? null,
    apiKey: config.model.apiKey ?? 'no-key-configured',
    maxRetries: 0,
  });
  // `web_search` is offered to the model only when this worker has a search provider to run it.
  const searchUrl = config.webSearch.searxngUrl;
  const webSearch =
    searchUrl === undefined ? undefined : createWebSearchActivities({ provider: new SearxngSearchProvider(searchUrl) });
  const toolDefinitions = new Map<string, Tool>(
    [
      ...SANDBOX_TOOL_DEFINITIONS,
      WEB_FETCH_TOOL_DEFINITION,
      ...(searchUrl === undefined ? [] : [WEB_SEARCH_TOOL_DEFINITION]),
    ].map((tool) => [tool.name, tool]),
  );
  // Conversations, tool outputs and event archives live in the blob store; the history holds their keys.
  const blobs = options.blobs ?? (await openBlobStore(config));
  const conversations = new ConversationStore(blobs);
  const docker = new Docker();
  const { environmentSecrets } = controlPlane;
  const networks = new SandboxNetworks({
    docker,
    firewall: config.sandbox.firewall,
    environmentSecrets,
    interception: { dataDir: config.dataDir, caBundlePath: config.sandbox.caBundlePath },
  });
  const sandboxOptions: SandboxOptions = {
    docker,
    image,
    memoryBytes: config.sandbox.memoryBytes,
    nanoCpus: config.sandbox.nanoCpus,
    pidsLimit: config.sandbox.pidsLimit,
    commandTimeoutMs: config.sandbox.commandTimeoutMs,
    maxOutputBytes: config.sandbox.maxOutputBytes,
    networks,
    environmentSecrets,
    ...(config.sandbox.caBundlePath === undefined ? {} : { caBundlePath: config.sandbox.caBundlePath }),
    dataDir: config.dataDir,
    ...(config.sandbox.disk === undefined ? {} : { workspaceDisk: config.sandbox.disk }),
    ...(config.blobStore.kind === 's3' ? { sharedFiles: blobs } : {}),
    memory: controlPlane.memory,
    skills: { rows: controlPlane.skills, blobs },
    repositories: {
      tokens: repositoryTokens,
      hosts: config.repositories.hosts,
      searchPath: config.repositories.searchPath,
    },
    ...(options.sandboxCluster === undefined
      ? {}
      : { owner: { cluster: options.sandboxCluster, worker: options.identity ?? `${process.pid}@${hostname()}` } }),
  };
  const owner = sandboxOptions.owner;
  if (options.metrics !== undefined && owner !== undefined) {
    registerSandboxCount(options.metrics.registry, () => countOwnSandboxes(docker, owner.worker));
  }
  // Pre-started containers (with their runners) for sessions' first tool calls: filled once the worker exists,
  // removed when it stops.
  const runners = new RunnerPool(docker);
  const warmPoolSize = config.sandbox.warmPoolSize;
  const warmPool =
    warmPoolSize > 0
      ? new WarmPool({ sandbox: sandboxOptions, size: warmPoolSize, prepare: (id) => runners.acquire(id) })
      : undefined;
  const sandbox = createSandboxActivities(
    { ...sandboxOptions, ...(warmPool === undefined ? {} : { warmPool }) },
    runners,
  );
  if (options.sandboxCluster !== undefined) {
    const temporal = new Client({ connection: options.connection, namespace: config.temporal.namespace });
    await cleanUpOrphans(docker, options.sandboxCluster, temporal);
  }
  if (config.sandbox.disk !== undefined) await cleanUpOrphanDisks(docker, config.sandbox.disk.directory);
  const tracing = workerTracing(options.tracing);
  const sinks: InjectedSinks<LiveEventSinks> = {
    liveEvents: {
      appended: {
        fn: (info, events) => bus.publish({ kind: 'appended', sessionId: info.workflowId, events }),
        callDuringReplay: false,
      },
    },
  };
  const worker = await Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue: SESSION_TASK_QUEUE,
    workflowBundle: options.workflowBundle,
    // Deprecated for worker versioning, which Keel does not use; here it only shortens what every event records.
    buildId: workflowBuildId(options.workflowBundle),
    dataConverter: keelDataConverter({ blobs, dataDir: config.dataDir }),
    activities: {
      ...createModelActivities({
        client,
        bus,
        toolDefinitions,
        conversations,
        uploadedFiles: uploadedFileReader(config.dataDir, config.blobStore.kind === 's3' ? blobs : undefined),
        blobs,
      }),
      ...sandbox,
      execute: withStoredOutput(sandbox.execute, conversations),
      ...createMcpActivities({ credentials }),
      webFetch: withStoredOutput(createWebFetchActivities().webFetch, conversations),
      ...(webSearch === undefined ? {} : { webSearch: withStoredOutput(webSearch.webSearch, conversations) }),
      ...createStorageActivities({ blobs, conversations }),
      ...createSelfHostedActivities(workQueue),
    },
    sinks: { ...sinks, ...tracing.sinks },
    interceptors: {
      activity: [
        ...tracing.activityInterceptors,
        ...(options.metrics === undefined ? [] : [options.metrics.interceptor]),
      ],
    },
    maxHeartbeatThrottleInterval: '500 milliseconds',
    shutdownGraceTime: '10 seconds',
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
  warmPool?.fill();
  return closeWhenStopped(worker, async () => {
    await warmPool?.close();
    await controlPlane.close();
    await networks.close();
    // A store the worker opened itself; one passed in belongs to the caller.
    if (options.blobs === undefined) blobs.close?.();
  });
}

/**
 * Removes the sandboxes of the cluster's sessions that no longer run (see `removeOrphanSandboxes`); a failure is
 * logged, never fatal: the worker starts anyway.
 */
async function cleanUpOrphans(docker: Docker, cluster: string, temporal: Client): Promise<void> {
  const isRunning = async (sessionId: string): Promise<boolean> => {
    try {
      return (await temporal.workflow.getHandle(sessionId).describe()).status.name === 'RUNNING';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  };
  try {
    const removed = await removeOrphanSandboxes(docker, cluster, isRunning);
    if (removed.sessions.length > 0 || removed.warmContainers > 0) {
      console.log(
        `keel worker: removed ${removed.containers} containers and ${removed.volumes} volumes of ${removed.sessions.length} ended sessions and of ${removed.warmContainers} warm sandboxes whose worker stopped`,
      );
    }
  } catch (error) {
    console.error('keel worker: looking for the sandboxes of ended sessions failed', error);
  }
}

/** Removes the workspace disks no session can use (see `removeOrphanWorkspaceDisks`); a failure is logged, not fatal. */
async function cleanUpOrphanDisks(docker: Docker, directory: string): Promise<void> {
  try {
    const removed = await removeOrphanWorkspaceDisks(docker, directory);
    if (removed.images > 0 || removed.loopDevices > 0) {
      console.log(
        `keel worker: removed ${removed.images} workspace disk images no volume uses and detached ${removed.loopDevices} loop devices of deleted ones`,
      );
    }
  } catch (error) {
    console.error('keel worker: looking for orphaned workspace disks failed', error);
  }
}
