import type { Client } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/workflow';

/**
 * Sends Queries to session Workflows one at a time per Workflow run from this server process. While a Workflow task
 * is in flight, Temporal buffers few Queries per Workflow (`history.maxBufferedQueryCount`, 1 by default) and
 * rejects the rest with RESOURCE_EXHAUSTED, which the client then retries with a long back-off; queueing here
 * keeps every subscriber and request of a session from competing for that buffer.
 */
export class SessionQueries {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly client: Client) {}

  /** Runs `query` on the session's latest run (or `runId`), after the queries already queued for it. */
  run<Result, Args extends unknown[]>(
    sessionId: string,
    definition: QueryDefinition<Result, Args>,
    args: Args,
    runId?: string,
  ): Promise<Result> {
    const key = `${sessionId}/${runId ?? 'latest'}`;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => this.client.workflow.getHandle(sessionId, runId).query(definition, ...args));
    this.tails.set(key, next);
    const forget = (): void => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }
}
