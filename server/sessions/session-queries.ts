import { Client, isGrpcDeadlineError } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/workflow';

/** How many ended sessions' results a server keeps. */
const ENDED_RESULTS_KEPT = 1_000;
/**
 * How long one Query may take. Temporal answers a Query in milliseconds, or after the Workflow task in flight; one
 * that is lost on the way (a buffered Query around a run's continue-as-new) would otherwise hold every later read of
 * the session, queued behind it, for good.
 */
const QUERY_DEADLINE_MS = 10_000;
/** Attempts of a Query that passed its deadline; a Query only reads, so asking again is safe. */
const QUERY_ATTEMPTS = 3;

/**
 * Sends Queries to session Workflows one at a time per Workflow run from this server process. While a Workflow task
 * is in flight, Temporal buffers few Queries per Workflow (`history.maxBufferedQueryCount`, 1 by default) and
 * rejects the rest with RESOURCE_EXHAUSTED, which the client then retries with a long back-off; queueing here
 * keeps every subscriber and request of a session from competing for that buffer.
 */
export class SessionQueries {
  private readonly tails = new Map<string, Promise<unknown>>();
  /** The same cluster, with Queries refused by closed Workflows instead of answered by a replay on a worker. */
  private readonly openOnly: Client;
  /** Results of sessions that ended, which never change. */
  private readonly results = new Map<string, unknown>();

  constructor(private readonly client: Client) {
    this.openOnly = new Client({
      connection: client.connection,
      namespace: client.options.namespace,
      ...(client.options.dataConverter === undefined ? {} : { dataConverter: client.options.dataConverter }),
      workflow: { queryRejectCondition: 'NOT_OPEN' },
    });
  }

  /**
   * Like `run` on the latest run, but a closed Workflow rejects the Query (`QueryRejectedError`) rather than having a
   * worker replay it: the caller reads what the session left instead (`endedResult`).
   */
  runOpen<Result, Args extends unknown[]>(
    sessionId: string,
    definition: QueryDefinition<Result, Args>,
    args: Args,
  ): Promise<Result> {
    return this.queued(`${sessionId}/latest`, () =>
      this.openOnly.workflow.getHandle(sessionId).query(definition, ...args),
    );
  }

  /** The result of a session whose Workflow has closed (read once from its close event, then kept). */
  async endedResult<Result>(sessionId: string): Promise<Result> {
    if (this.results.has(sessionId)) return this.results.get(sessionId) as Result;
    // Under the Query deadline: the caller knows the Workflow has closed, and a result that does not come at once
    // must not hold the reader.
    const result = (await this.withDeadlines(() => this.client.workflow.getHandle(sessionId).result())) as Result;
    this.results.set(sessionId, result);
    if (this.results.size > ENDED_RESULTS_KEPT) {
      const oldest = this.results.keys().next().value;
      if (oldest !== undefined) this.results.delete(oldest);
    }
    return result;
  }

  /** Runs `query` on the session's latest run (or `runId`), after the queries already queued for it. */
  run<Result, Args extends unknown[]>(
    sessionId: string,
    definition: QueryDefinition<Result, Args>,
    args: Args,
    runId?: string,
  ): Promise<Result> {
    return this.queued(`${sessionId}/${runId ?? 'latest'}`, () =>
      this.client.workflow.getHandle(sessionId, runId).query(definition, ...args),
    );
  }

  /** Runs `query` after the Queries already queued under `key`, each attempt under a deadline. */
  private queued<Result>(key: string, query: () => Promise<Result>): Promise<Result> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.withDeadlines(query));
    this.tails.set(key, next);
    const forget = (): void => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  /** Runs `query` with a deadline, asking again when an attempt passes it. */
  private async withDeadlines<Result>(query: () => Promise<Result>): Promise<Result> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, query);
      } catch (error) {
        if (!isGrpcDeadlineError(error) || attempt >= QUERY_ATTEMPTS) throw error;
      }
    }
  }
}
