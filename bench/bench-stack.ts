import { rmSync } from 'node:fs';
import { KeelClient } from '../client';
import { startStack } from '../cli/stack';
import type { Stack } from '../cli/stack';
import { readConfig } from '../common/config';
import { ScriptedModelServer } from '../test/scripted-model-server';
import type { ScriptedModelServerOptions } from '../test/scripted-model-server';
import { isolatedStackEnvironment } from '../test/support/stack-environment';
import { removeThrowawaySandboxes } from '../test/support/throwaway-sandboxes';
import { benchReply } from './bench-model';

/** A Keel started for one benchmark, with the instant model. */
export interface BenchStack {
  stack: Stack;
  client: KeelClient;
  model: ScriptedModelServer;
  /** The stack's data folder (blob store, payloads, Temporal's SQLite file). */
  dataDir: string;
  environment: Record<string, string>;
  stop(): Promise<void>;
}

const API_KEY = 'keel-bench-key';

/**
 * Starts Keel (dev server, worker unless `runWorker` is false, server) with `environment` overriding its config, and
 * the instant model (`benchReply`, unless `model` says otherwise).
 */
export async function startBenchStack(
  environment: Record<string, string>,
  runWorker = true,
  model: ScriptedModelServerOptions = { respond: benchReply },
): Promise<BenchStack> {
  const scripted = await ScriptedModelServer.start(model);
  const isolated = await isolatedStackEnvironment(scripted.baseUrl, 'keel-bench-');
  const dataDir = isolated.dataDir;
  const full = { ...isolated.environment, ...environment };
  const config = readConfig(full);
  const stack = await startStack({ config, apiKey: API_KEY, runWorker });
  return {
    stack,
    model: scripted,
    dataDir,
    client: new KeelClient({ baseUrl: stack.apiUrl, apiKey: API_KEY }),
    environment: { ...full, TEMPORAL_ADDRESS: stack.temporalAddress },
    stop: async () => {
      await stack.stop();
      await removeThrowawaySandboxes(config.temporal.namespace, stack.temporalAddress);
      await scripted.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
