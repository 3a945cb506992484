import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../cli/temporal-dev-server';
import { seedWorkflowBundle } from './workflow-bundle';

/**
 * The configuration variables of a stack that runs beside any other on this machine: a fresh data folder, free
 * ports for the API and the dev server, and the given model endpoint. The folder holds the tests' Workflow bundle
 * already, so no process of the stack bundles again.
 */
export async function isolatedStackEnvironment(
  modelBaseUrl: string,
  prefix: string,
): Promise<{ dataDir: string; environment: Record<string, string> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  await seedWorkflowBundle(dataDir);
  const environment = {
    KEEL_DATA_DIR: dataDir,
    KEEL_PORT: String(await findFreePort()),
    KEEL_TEMPORAL_PORT: String(await findFreePort()),
    KEEL_TEMPORAL_UI_PORT: String(await findFreePort()),
    KEEL_MODEL_BASE_URL: modelBaseUrl,
    KEEL_MODEL_API_KEY: 'scripted-model-key',
  };
  return { dataDir, environment };
}
