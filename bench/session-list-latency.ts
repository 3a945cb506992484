import { Client, Connection } from '@temporalio/client';
import { sessionListQuery } from '../server/sessions/session-list-query';
import type { KeelUpProcess } from './keel-up-process';
import { inBatches } from './throughput';

/** Latencies of `sessions.list` pages with `sessions` sessions in the namespace. */
export interface SessionListResult {
  sessions: number;
  limit: number;
  latenciesMs: number[];
  /**
   * Temporal alone, timed right after each call: the visibility reads a first page costs Keel, sent straight to the
   * dev server (the open sessions' query, then the closed ones', one page of `limit + 2` each, as Keel asks).
   */
  temporalLatenciesMs: number[];
  /** Items of the last page timed, to check that a full page was read. */
  pageItems: number;
}

const CREATE_CONCURRENCY = 20;
const WARM_UP_SAMPLES = 3;

/**
 * Creates sessions through the official SDK until Keel holds `sessions` of them (idle ones, on an agent), then times
 * `samples` calls of `client.beta.sessions.list({ limit })`, one after the other, at the client, each followed by
 * Temporal's own part of it, so both meet the machine in the same moments.
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
  const temporalLatenciesMs: number[] = [];
  let pageItems = 0;
  const connection = await Connection.connect({ address: up.temporalAddress });
  try {
    const visibility = new Client({ connection, namespace: up.namespace }).workflowService;
    const query = sessionListQuery({ limit, createdAt: {} });
    const readFirstPages = async (): Promise<void> => {
      for (const status of ["ExecutionStatus = 'Running'", "ExecutionStatus != 'Running'"]) {
        await visibility.listWorkflowExecutions({
          namespace: up.namespace,
          query: `${query} AND ${status}`,
          // Keel reads one session more than the page to know whether another follows, and one row more than that.
          pageSize: limit + 2,
        });
      }
    };
    for (let index = 0; index < WARM_UP_SAMPLES + samples; index++) {
      const started = performance.now();
      const page = await sdk.beta.sessions.list({ limit });
      const elapsed = performance.now() - started;
      pageItems = page.data.length;
      const temporalStarted = performance.now();
      await readFirstPages();
      const temporalElapsed = performance.now() - temporalStarted;
      if (index >= WARM_UP_SAMPLES) {
        latenciesMs.push(elapsed);
        temporalLatenciesMs.push(temporalElapsed);
      }
    }
  } finally {
    await connection.close();
  }
  return { sessions, limit, latenciesMs, temporalLatenciesMs, pageItems };
}
