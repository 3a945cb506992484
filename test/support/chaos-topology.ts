import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
import { exited, TOPOLOGY_API_KEY, TOPOLOGY_BUCKET } from './production-topology';
import { startSeaweedFs } from './seaweedfs';
import type { SeaweedFs } from './seaweedfs';
import { sdkClient } from './sdk';
import { spawnReady } from './spawn-ready';
import { removeThrowawaySandboxes } from './throwaway-sandboxes';
import { seedWorkflowBundle } from './workflow-bundle';

const KEEL = path.join(PROJECT_ROOT, 'bin', 'keel.cjs');

/** One `keel worker` or `keel server` process of the chaos topology; `restart` keeps its name, port and data folder. */
export interface ChaosProcess {
  name: string;
  kind: 'worker' | 'server';
  child: ChildProcess;
  /** The server's URL (workers have one too, unused). */
  url: string;
  /** The official SDK pointed at this process (servers only), without retries. */
  client: Anthropic;
  /** SIGKILLs the process (when alive) and waits until it exited. */
  kill(): Promise<void>;
  /** Starts the process again with the same environment, once it has exited. */
  restart(): Promise<void>;
}

/**
 * The production topology (PostgreSQL, SeaweedFS, `keel server` and `keel worker` processes) whose every part can be
 * killed and restarted as it was: servers keep their port, and the Temporal dev server keeps its port and its SQLite
 * file (in a temporary folder of this run), so a SIGKILL of any of them loses nothing that was committed.
 */
export interface ChaosTopology {
  model: ScriptedModelServer;
  servers: ChaosProcess[];
  workers: ChaosProcess[];
  /** The Temporal dev server's gRPC address; it stays the same across restarts. */
  temporalAddress: string;
  /** SIGKILLs the Temporal dev server this topology started (found by its own SQLite file) and starts it again. */
  restartTemporal(): Promise<void>;
  /** Kills every process and stops every store; removes the folder. */
  stop(): Promise<void>;
}

/** The pids of processes whose command line contains `text` (this run's own files make it unambiguous). */
function pidsWithArgument(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(text)) pids.push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return pids;
}

/** Resolves once no process has `text` on its command line (10 s at most). */
async function untilGone(text: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (pidsWithArgument(text).length > 0 && Date.now() < deadline) await new Promise((wake) => setTimeout(wake, 50));
}

/** Starts the chaos topology: stores, a Temporal dev server on a persistent file, `servers` servers, `workers` workers. */
export async function startChaosTopology(options: {
  servers: number;
  workers: number;
  model: ScriptedModelServerOptions;
}): Promise<ChaosTopology> {
  const folder = mkdtempSync(path.join(tmpdir(), 'keel-chaos-'));
  const config = readConfig();
  const cliPath = resolveTemporalCliPath(PROJECT_ROOT, config.temporal.cliPath, config.temporal.searchPath);
  const temporalOptions = {
    cliPath,
    port: await findFreePort(),
    uiPort: await findFreePort(),
    dbFilename: path.join(folder, 'temporal.sqlite'),
    namespace: config.temporal.namespace,
  };
  let postgres: PrivatePostgres | undefined;
  let seaweed: SeaweedFs | undefined;
  let temporal: TemporalDevServer | undefined;
  let model: ScriptedModelServer | undefined;
  const processes: ChaosProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((item) => item.kill()));
    await model?.close().catch(() => undefined);
    if (temporal !== undefined) await removeThrowawaySandboxes(config.temporal.namespace, temporal.address);
    await temporal?.stop();
    await seaweed?.stop();
    await postgres?.stop();
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    [postgres, seaweed, temporal, model] = await Promise.all([
      startPostgres(),
      startSeaweedFs(),
      startTemporalDevServer(temporalOptions),
      ScriptedModelServer.start(options.model),
    ]);
    const shared = {
      ...seaweed.keelEnvironment(TOPOLOGY_BUCKET),
      KEEL_DATABASE_URL: await postgres.createDatabase(),
      KEEL_SECRET_KEY: Buffer.from(generateSecretKey()).toString('base64'),
      TEMPORAL_ADDRESS: temporal.address,
      KEEL_API_KEY: TOPOLOGY_API_KEY,
      KEEL_MODEL_BASE_URL: model.baseUrl,
      KEEL_MODEL_API_KEY: 'scripted-model-key',
    };
    const startProcess = async (name: string, kind: 'worker' | 'server'): Promise<ChaosProcess> => {
      const port = await findFreePort();
      // A server runs no Workflow: only a worker's data folder gets the bundle.
      if (kind === 'worker') await seedWorkflowBundle(path.join(folder, name));
      const environment = {
        ...shared,
        KEEL_DATA_DIR: path.join(folder, name),
        KEEL_PORT: String(port),
        KEEL_WORKER_METRICS_PORT: '0',
      };
      const spawn = async (): Promise<ChildProcess> =>
        (
          await spawnReady([KEEL, kind], {
            cwd: PROJECT_ROOT,
            env: environment,
            readyText: kind === 'worker' ? 'keel worker: polling' : 'Keel server is ready',
          })
        ).child;
      const url = `http://127.0.0.1:${port}`;
      const item: ChaosProcess = {
        name,
        kind,
        child: await spawn(),
        url,
        client: sdkClient(url, TOPOLOGY_API_KEY),
        async kill() {
          if (item.child.exitCode === null && item.child.signalCode === null) item.child.kill('SIGKILL');
          await exited(item.child);
        },
        async restart() {
          await item.kill();
          item.child = await spawn();
        },
      };
      processes.push(item);
      return item;
    };
    const servers: ChaosProcess[] = [];
    // One server first: it creates and migrates the store, which the others and the workers then use.
    for (let index = 0; index < options.servers; index += 1)
      servers.push(await startProcess(`server-${index}`, 'server'));
    const workers = await Promise.all(
      Array.from({ length: options.workers }, (_, index) => startProcess(`worker-${index}`, 'worker')),
    );
    const restartTemporal = async (): Promise<void> => {
      for (const pid of pidsWithArgument(temporalOptions.dbFilename)) process.kill(pid, 'SIGKILL');
      await untilGone(temporalOptions.dbFilename);
      await temporal?.stop();
      temporal = await startTemporalDevServer(temporalOptions);
    };
    return { model, servers, workers, temporalAddress: temporal.address, restartTemporal, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
