import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeelClient } from '../client';
import { startStack } from '../cli/stack';
import type { Stack } from '../cli/stack';
import { findFreePort } from '../cli/temporal-dev-server';
import { readConfig } from '../common/config';
import { ScriptedModelServer } from '../test/scripted-model-server';
import { benchReply } from './bench-model';

/** A Keel started for one benchmark, with the instant model. */
export interface BenchStack {
  stack: Stack;
  client: KeelClient;
  model: ScriptedModelServer;
  environment: Record<string, string>;
  stop(): Promise<void>;
}

const API_KEY = 'keel-bench-key';

/** Starts Keel (dev server, worker unless `runWorker` is false, server) with `environment` overriding its config. */
export async function startBenchStack(environment: Record<string, string>, runWorker = true): Promise<BenchStack> {
  const model = await ScriptedModelServer.start({ respond: benchReply });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'keel-bench-'));
  const full = {
    KEEL_DATA_DIR: dataDir,
    KEEL_PORT: String(await findFreePort()),
    KEEL_TEMPORAL_PORT: String(await findFreePort()),
    KEEL_TEMPORAL_UI_PORT: String(await findFreePort()),
    KEEL_MODEL_BASE_URL: model.baseUrl,
    KEEL_MODEL_API_KEY: 'bench',
    ...environment,
  };
  const stack = await startStack({ config: readConfig(full), apiKey: API_KEY, runWorker });
  return {
    stack,
    model,
    client: new KeelClient({ baseUrl: stack.apiUrl, apiKey: API_KEY }),
    environment: { ...full, TEMPORAL_ADDRESS: stack.temporalAddress },
    stop: async () => {
      await stack.stop();
      await model.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
