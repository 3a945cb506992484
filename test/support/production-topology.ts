import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import { findFreePort, resolveTemporalCliPath, startTemporalDevServer } from '../../cli/temporal-dev-server';
import type { TemporalDevServer } from '../../cli/temporal-dev-server';
import { PROJECT_ROOT, readConfig } from '../../common/config';
import { generateSecretKey } from '../../common/secret-box';
import { ScriptedModelServer } from '../scripted-model-server';
import type { ScriptedModelServerOptions } from '../scripted-model-server';
import { startPostgres } from './postgres';
import type { PrivatePostgres } from './postgres';
import { startSeaweedFs } from './seaweedfs';
import type { SeaweedFs } from './seaweedfs';
import { sdkClient } from './sdk';
import { spawnReady } from './spawn-ready';
import type { ReadyProcess } from './spawn-ready';
import { removeThrowawaySandboxes } from './throwaway-sandboxes';
import { seedWorkflowBundle } from './workflow-bundle';

const KEEL = path.join(PROJECT_ROOT, 'bin', 'keel.cjs');
/** The API key every server of the topology accepts. */
export const TOPOLOGY_API_KEY = 'keel-topology-key';
/** The bucket the topology keeps its blobs in. */
export const TOPOLOGY_BUCKET = 'keel-topology';

/** A `keel server` process of the topology, with the official SDK pointed at it. */
export interface TopologyServer extends ReadyProcess {
  url: string;
  client: Anthropic;
}

/**
 * Keel deployed as production runs it, on one machine: a private PostgreSQL (the control plane and the live events
 * channel), SeaweedFS (the blob store), one Temporal dev server, and `keel server` and `keel worker` processes, each
 * with a data folder of its own as on another machine; the scripted model stands in for the model endpoint.
 */
export interface ProductionTopology {
  postgres: PrivatePostgres;
  databaseUrl: string;
  seaweed: SeaweedFs;
  temporal: TemporalDevServer;
  model: ScriptedModelServer;
  servers: TopologyServer[];
  workers: ReadyProcess[];
  /** Starts another `keel worker` named `name` (its data folder's name). */
  startWorker(name: string): Promise<ReadyProcess>;
  /** Starts another `keel server` named `name`. */
  startServer(name: string): Promise<TopologyServer>;
  /** Kills every process and stops every store; removes the folders. */
  stop(): Promise<void>;
}

/** Resolves when `child` has exited (at once when it already has). */
export function exited(child: ChildProcess): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}

/** Starts the stores, Temporal and the model, then `servers` servers (they migrate the store) and `workers` workers. */
export async function startProductionTopology(options: {
  servers: number;
  workers: number;
  model: ScriptedModelServerOptions;
  /** Variables of every Keel process beyond the topology's own. */
  environment?: Record<string, string>;
}): Promise<ProductionTopology> {
  const folder = mkdtempSync(path.join(tmpdir(), 'keel-topology-'));
  const config = readConfig();
  const children: ChildProcess[] = [];
  const [postgres, seaweed, temporal, model] = await Promise.all([
    startPostgres(),
    startSeaweedFs(),
    startTemporalDevServer({
      cliPath: resolveTemporalCliPath(PROJECT_ROOT, config.temporal.cliPath, config.temporal.searchPath),
      port: await findFreePort(),
      uiPort: await findFreePort(),
      dbFilename: path.join(folder, 'temporal.sqlite'),
      namespace: config.temporal.namespace,
    }),
    ScriptedModelServer.start(options.model),
  ]);
  const databaseUrl = await postgres.createDatabase();
  const shared = {
    ...seaweed.keelEnvironment(TOPOLOGY_BUCKET),
    KEEL_DATABASE_URL: databaseUrl,
    KEEL_SECRET_KEY: Buffer.from(generateSecretKey()).toString('base64'),
    TEMPORAL_ADDRESS: temporal.address,
    KEEL_API_KEY: TOPOLOGY_API_KEY,
    KEEL_MODEL_BASE_URL: model.baseUrl,
    KEEL_MODEL_API_KEY: 'scripted-model-key',
    ...options.environment,
  };
  const processEnvironment = async (name: string): Promise<Record<string, string>> => ({
    ...shared,
    KEEL_DATA_DIR: path.join(folder, name),
    KEEL_PORT: String(await findFreePort()),
    KEEL_WORKER_METRICS_PORT: '0',
  });
  const startWorker = async (name: string): Promise<ReadyProcess> => {
    // A server runs no Workflow: only a worker's data folder gets the bundle.
    await seedWorkflowBundle(path.join(folder, name));
    const worker = await spawnReady([KEEL, 'worker'], {
      cwd: PROJECT_ROOT,
      env: await processEnvironment(name),
      readyText: 'keel worker: polling',
    });
    children.push(worker.child);
    return worker;
  };
  const startServer = async (name: string): Promise<TopologyServer> => {
    const environment = await processEnvironment(name);
    const server = await spawnReady([KEEL, 'server'], {
      cwd: PROJECT_ROOT,
      env: environment,
      readyText: 'Keel server is ready',
    });
    children.push(server.child);
    const url = `http://127.0.0.1:${environment['KEEL_PORT']}`;
    return { ...server, url, client: sdkClient(url, TOPOLOGY_API_KEY) };
  };
  const stop = async (): Promise<void> => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await model.close().catch(() => undefined);
    await removeThrowawaySandboxes(config.temporal.namespace, temporal.address);
    await temporal.stop();
    await seaweed.stop();
    await postgres.stop();
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    const servers: TopologyServer[] = [];
    // One server first: it creates and migrates the store, which the others and the workers then use.
    for (let index = 0; index < options.servers; index += 1) servers.push(await startServer(`server-${index}`));
    const workers = await Promise.all(
      Array.from({ length: options.workers }, (_, index) => startWorker(`worker-${index}`)),
    );
    return { postgres, databaseUrl, seaweed, temporal, model, servers, workers, startWorker, startServer, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
