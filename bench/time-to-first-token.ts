import type { SandboxProvisioning } from '../common/session';
import { startBenchStack } from './bench-stack';

const SETTLE_MS = 100;

/**
 * Time to first token, message sent → first text delta at the client, over `sessions` sequential sessions with
 * `provisioning` sandboxes (eager: the container is created when the session starts, before the first model call).
 */
export async function measureTimeToFirstToken(provisioning: SandboxProvisioning, sessions: number): Promise<number[]> {
  const bench = await startBenchStack({ KEEL_SANDBOX_PROVISIONING: provisioning });
  const samples: number[] = [];
  try {
    for (let index = 0; index < sessions + 2; index++) {
      const session = await bench.client.createSession({ title: `ttft ${provisioning} ${index}` });
      const controller = new AbortController();
      const stream = bench.client.events(session.id, {
        after: session.stats.event_count - 1,
        textDeltas: true,
        signal: controller.signal,
      });
      const firstDelta = (async () => {
        for await (const item of stream) {
          if (item.kind === 'text_delta') return performance.now();
          if (item.kind === 'event' && item.event.type === 'agent.message') return performance.now();
        }
        throw new Error('stream ended before the first token');
      })();
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const sentAt = performance.now();
      await bench.client.sendMessage(session.id, 'Say hello.');
      const firstAt = await firstDelta;
      controller.abort();
      if (index >= 2) samples.push(firstAt - sentAt);
      await bench.client.endSession(session.id);
    }
  } finally {
    await bench.stop();
  }
  return samples;
}
