import { rmSync } from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { ScriptedModelServer } from '../test/scripted-model-server';
import type { ScriptedModelServerOptions } from '../test/scripted-model-server';
import { spawnReady } from '../test/support/spawn-ready';
import { isolatedStackEnvironment } from '../test/support/stack-environment';
import { removeThrowawaySandboxes } from '../test/support/throwaway-sandboxes';
import { readConfig } from '../common/config';
import { childrenNamed } from './process-cpu';

/** `keel up` running as its own process, as a user starts it, with the official SDK pointed at it. */
export interface KeelUpProcess {
  /** The official SDK (`client.beta.*`) against this Keel, without retries, so every failure is counted. */
  sdk: Anthropic;
  apiUrl: string;
  /** The embedded dev server's gRPC address, and the namespace Keel uses there. */
  temporalAddress: string;
  namespace: string;
  model: ScriptedModelServer;
  /** Process ids: `keel` (worker and server in one Node process) and `temporal` (the embedded dev server). */
  pids: { keel: number; temporal: number };
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..');
const API_KEY = 'keel-bench-key';

/**
 * Starts `keel up` (`node bin/keel.cjs up`) in a fresh data folder on free ports, with a scripted model in this
 * process, and resolves once it printed `Keel is ready`. Its worker, server and dev server are the `keel up` defaults;
 * `nodeArguments` go to its Node (`--cpu-prof`, to see where its time goes).
 */
export async function startKeelUp(
  model: ScriptedModelServerOptions,
  nodeArguments: string[] = [],
): Promise<KeelUpProcess> {
  const scripted = await ScriptedModelServer.start(model);
  const { dataDir, environment } = await isolatedStackEnvironment(scripted.baseUrl, 'keel-bench-up-');
  const started = await spawnReady([...nodeArguments, path.join(ROOT, 'bin', 'keel.cjs'), 'up'], {
    cwd: ROOT,
    env: { ...environment, KEEL_API_KEY: API_KEY },
    readyText: 'Keel is ready',
  });
  const { child } = started;
  const keel = child.pid ?? 0;
  const [temporal] = childrenNamed(keel, 'temporal');
  if (temporal === undefined) throw new Error(`keel up started no temporal process:\n${started.output()}`);
  const apiUrl = `http://127.0.0.1:${environment['KEEL_PORT'] ?? ''}`;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const temporalAddress = `127.0.0.1:${environment['KEEL_TEMPORAL_PORT'] ?? ''}`;
  const { namespace } = readConfig(environment).temporal;
  return {
    sdk: new Anthropic({ baseURL: apiUrl, apiKey: API_KEY, maxRetries: 0, timeout: 120_000 }),
    apiUrl,
    temporalAddress,
    namespace,
    model: scripted,
    pids: { keel, temporal },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      await removeThrowawaySandboxes(namespace, temporalAddress);
      await scripted.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
