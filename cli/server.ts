import type { KeelConfig } from '../common/config';
import { resolveApiKey } from './api-key';
import { startStack } from './stack';
import { untilSignalled } from './up';

/**
 * `keel server`: the HTTP API alone, on the Temporal cluster of `TEMPORAL_ADDRESS`, for deployments that run servers
 * and workers (`keel worker`) as their own processes, each scaled on its own. Prints `Keel server is ready` when it
 * listens; on SIGINT / SIGTERM it stops listening, ends its open event streams (clients resume on another server
 * with `Last-Event-ID`) and exits.
 */
export async function server(config: KeelConfig): Promise<void> {
  const apiKey = resolveApiKey(config.server.apiKey, config.dataDir);
  const stack = await startStack({
    config,
    apiKey,
    role: 'server',
    log: (line) => console.log(`keel server: ${line}`),
  });
  console.log(`Keel server is ready: API ${stack.apiUrl} | Temporal ${stack.temporalAddress}`);
  await untilSignalled('keel server', () => stack.stop());
}
