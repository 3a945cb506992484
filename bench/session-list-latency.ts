import type { KeelUpProcess } from './keel-up-process';
import { inBatches } from './throughput';

/** Latencies of `sessions.list` pages with `sessions` sessions in the namespace. */
export interface SessionListResult {
  sessions: number;
  limit: number;
  latenciesMs: number[];
  /** Items of the last page timed, to check that a full page was read. */
  pageItems: number;
}

const CREATE_CONCURRENCY = 20;
const WARM_UP_SAMPLES = 3;

/**
 * Creates sessions through the official SDK until Keel holds `sessions` of them (idle ones, on an agent), then times
 * `samples` calls of `client.beta.sessions.list({ limit })`, one after the other, at the client.
 */
export async function measureSessionList(
  up: KeelUpProcess,
  existing: number,
  sessions: number,
  limit: number,
  samples: number,
): Promise<SessionListResult> {
  const { sdk } = up;
  const agent = await sdk.beta.agents.create({ name: 'list bench', model: 'scripted-model' });
  const environment = await sdk.beta.environments.create({ name: 'list bench', config: { type: 'cloud' } });
  await inBatches(Math.max(0, sessions - existing), CREATE_CONCURRENCY, (index) =>
    sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id, title: `listed ${index}` }),
  );
  const latenciesMs: number[] = [];
  let pageItems = 0;
  for (let index = 0; index < WARM_UP_SAMPLES + samples; index++) {
    const started = performance.now();
    const page = await sdk.beta.sessions.list({ limit });
    const elapsed = performance.now() - started;
    pageItems = page.data.length;
    if (index >= WARM_UP_SAMPLES) latenciesMs.push(elapsed);
  }
  return { sessions, limit, latenciesMs, pageItems };
}
