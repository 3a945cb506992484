import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { readConfig } from '../common/config';
import { LiveEventBus } from '../common/live-events';
import { createWorker } from './create-worker';
import { prebuiltWorkflowBundle } from './prebuilt-workflow-bundle';

/**
 * The standalone worker process: connects to `TEMPORAL_ADDRESS` and runs until SIGINT / SIGTERM, when it stops
 * polling and lets running Activities finish (the SDK installs those signal handlers and shuts down gracefully).
 */
async function main(): Promise<void> {
  const config = readConfig();
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}`;
  const connection = await NativeConnection.connect({ address });
  try {
    const workflowBundle = await prebuiltWorkflowBundle(path.join(config.dataDir, 'cache'));
    const worker = await createWorker({ config, connection, bus: new LiveEventBus(), workflowBundle });
    console.log(`keel worker: polling ${address} (namespace ${config.temporal.namespace})`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
