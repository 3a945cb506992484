import type { KeelConfig } from '../common/config';
import { resolveApiKey } from './api-key';
import { startStack } from './stack';

/**
 * `keel up`: the embedded default on one machine, in the foreground. Prints one line beginning `Keel is ready` when
 * everything answers, and stops its children on SIGINT / SIGTERM.
 */
export async function up(config: KeelConfig): Promise<void> {
  const apiKey = resolveApiKey(config.server.apiKey, config.dataDir);
  const stack = await startStack({ config, apiKey, log: (line) => console.log(`keel: ${line}`) });
  const model =
    stack.demoModelUrl === null
      ? `model endpoint ${config.model.baseUrl ?? 'api.anthropic.com'}`
      : 'offline demo model (no key configured)';
  console.log(
    `Keel is ready: API ${stack.apiUrl} | API key ${apiKey} | Temporal UI ${stack.temporalUiUrl ?? `(external cluster at ${stack.temporalAddress})`} | ${model}`,
  );
  await untilSignalled('keel', () => stack.stop());
}

/**
 * Resolves once SIGINT or SIGTERM has arrived and `stop` has finished: the foreground life of `keel up` and
 * `keel server`. A second signal while stopping is ignored.
 */
export function untilSignalled(name: string, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      console.log(`${name}: ${signal} received, stopping`);
      void stop().then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
