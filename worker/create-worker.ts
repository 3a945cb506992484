import Anthropic from '@anthropic-ai/sdk';
import { Worker } from '@temporalio/worker';
import type { InjectedSinks, WorkflowBundleOption, NativeConnection } from '@temporalio/worker';
import Docker from 'dockerode';
import { resolveSecretKey } from '../activities/credentials/secret-key-file';
import { credentialStoreFile, SqliteCredentialResolver } from '../activities/credentials/sqlite-credential-resolver';
import { SqliteRepositoryTokenReader } from '../activities/credentials/sqlite-repository-token-reader';
import { createMcpActivities } from '../activities/mcp/create-mcp-activities';
import { createModelActivities } from '../activities/model/create-model-activities';
import { uploadedFileReader } from '../activities/model/resolve-media';
import { WEB_FETCH_TOOL_DEFINITION } from '../activities/model/web-fetch-tool-definition';
import { WEB_SEARCH_TOOL_DEFINITION } from '../activities/model/web-search-tool-definition';
import { createSandboxActivities } from '../activities/sandbox/create-sandbox-activities';
import { createSelfHostedActivities, SqliteWorkQueue } from '../activities/self-hosted/sqlite-work-queue';
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
import type { CredentialResolver } from '../common/credentials';
import type { LiveEventBus, LiveEventSinks } from '../common/live-events';
import type { Tool } from '../common/model';
import { SESSION_TASK_QUEUE } from '../common/task-queues';
import { openBlobStore } from '../storage/open-blob-store';
import { closeWhenStopped } from './close-when-stopped';
import type { WorkerMetrics } from './metrics';
import { keelDataConverter } from './payload-store';
import { hostname } from 'node:os';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { removeOrphanSandboxes } from '../activities/sandbox/remove-orphan-sandboxes';

/** What a worker needs besides the configuration. */
export interface CreateWorkerOptions {
  config: KeelConfig;
  connection: NativeConnection;
  bus: LiveEventBus;
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
}

/**
 * Wires a Temporal Worker that hosts the session Workflow and every Activity: the model client (`maxRetries: 0`,
 * Temporal owns retries), the Docker sandbox (with its networks and egress proxy, closed when the worker stops) and
 * the live-event sink.
 */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { config, bus } = options;
  // Vault credentials and repository tokens are read inside Activities, from the encrypted store; Workflows carry
  // vault and resource ids only.
  const secretKey = resolveSecretKey(config.secretKey, config.dataDir);
  const credentials: CredentialResolver = new SqliteCredentialResolver({
    filename: credentialStoreFile(config.dataDir),
    secretKey,
  });
  const repositoryTokens = new SqliteRepositoryTokenReader({
    filename: credentialStoreFile(config.dataDir),
    secretKey,
  });
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
  // Sessions of self-hosted environments queue work for the environment's own workers in the control-plane store.
  const workQueue = new SqliteWorkQueue(credentialStoreFile(config.dataDir));
  const networks = new SandboxNetworks({ docker, firewall: config.sandbox.firewall });
  const sandbox = createSandboxActivities({
    docker,
    image,
    memoryBytes: config.sandbox.memoryBytes,
    nanoCpus: config.sandbox.nanoCpus,
    pidsLimit: config.sandbox.pidsLimit,
    commandTimeoutMs: config.sandbox.commandTimeoutMs,
    maxOutputBytes: config.sandbox.maxOutputBytes,
    networks,
    ...(config.sandbox.caBundlePath === undefined ? {} : { caBundlePath: config.sandbox.caBundlePath }),
    dataDir: config.dataDir,
    repositories: {
      tokens: repositoryTokens,
      hosts: config.repositories.hosts,
      searchPath: config.repositories.searchPath,
    },
    ...(options.sandboxCluster === undefined
      ? {}
      : { owner: { cluster: options.sandboxCluster, worker: options.identity ?? `${process.pid}@${hostname()}` } }),
  });
  if (options.sandboxCluster !== undefined) {
    const temporal = new Client({ connection: options.connection, namespace: config.temporal.namespace });
    await cleanUpOrphans(docker, options.sandboxCluster, temporal);
  }
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
    dataConverter: keelDataConverter({ blobs, dataDir: config.dataDir }),
    activities: {
      ...createModelActivities({
        client,
        bus,
        toolDefinitions,
        conversations,
        uploadedFiles: uploadedFileReader(config.dataDir),
      }),
      ...sandbox,
      execute: withStoredOutput(sandbox.execute, conversations),
      ...createMcpActivities({ credentials }),
      webFetch: withStoredOutput(createWebFetchActivities().webFetch, conversations),
      ...(webSearch === undefined ? {} : { webSearch: withStoredOutput(webSearch.webSearch, conversations) }),
      ...createStorageActivities({ blobs, conversations }),
      ...createSelfHostedActivities(workQueue),
    },
    sinks,
    ...(options.metrics === undefined ? {} : { interceptors: { activity: [options.metrics.interceptor] } }),
    maxHeartbeatThrottleInterval: '500 milliseconds',
    shutdownGraceTime: '10 seconds',
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
  return closeWhenStopped(worker, async () => {
    repositoryTokens.close();
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
    if (removed.sessions.length > 0) {
      console.log(
        `keel worker: removed ${removed.containers} containers and ${removed.volumes} volumes of ${removed.sessions.length} ended sessions`,
      );
    }
  } catch (error) {
    console.error('keel worker: looking for the sandboxes of ended sessions failed', error);
  }
}
