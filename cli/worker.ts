import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import type { KeelConfig } from '../common/config';
import { LiveEventBus } from '../common/live-events';
import { createWorker } from '../worker/create-worker';
import { prebuiltWorkflowBundle } from '../worker/prebuilt-workflow-bundle';

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
  try {
    const workflowBundle = await prebuiltWorkflowBundle(path.join(config.dataDir, 'cache'));
    const running = await createWorker({ config, connection, bus: new LiveEventBus(), workflowBundle });
    console.log(`keel worker: polling ${address} (namespace ${config.temporal.namespace})`);
    await running.run();
    console.log('keel worker: stopped');
  } finally {
    await connection.close();
  }
}
