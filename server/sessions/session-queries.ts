import { Client, isGrpcCancelledError, isGrpcDeadlineError } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/workflow';
import { ApiError } from '../api-error';

/** How many ended sessions' results a server keeps. */
const ENDED_RESULTS_KEPT = 1_000;
/**
 * How long one Query may take. Temporal answers a Query in milliseconds, or after the Workflow task in flight; one
 * that is lost on the way (a buffered Query around a run's continue-as-new) would otherwise hold every later read of
 * the session, queued behind it, for good.
 */
export const QUERY_DEADLINE_MS = 10_000;
/** Attempts of a Query that passed its deadline; a Query only reads, so asking again is safe. */
const QUERY_ATTEMPTS = 3;

/** How `SessionQueries` waits for a Query's answer. */
export interface QueryPatience {
  /** How long one attempt may take, in milliseconds. */
  deadlineMs: number;
  /** How many attempts are made before the request fails with a 504 `timeout_error`. */
  attempts: number;
}

const DEFAULT_PATIENCE: QueryPatience = { deadlineMs: QUERY_DEADLINE_MS, attempts: QUERY_ATTEMPTS };

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

  constructor(
    private readonly client: Client,
    private readonly patience: QueryPatience = DEFAULT_PATIENCE,
  ) {
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
    return this.queued(sessionId, 'latest', () =>
      this.openOnly.workflow.getHandle(sessionId).query(definition, ...args),
    );
  }

  /** The result of a session whose Workflow has closed (read once from its close event, then kept). */
  async endedResult<Result>(sessionId: string): Promise<Result> {
    if (this.results.has(sessionId)) return this.results.get(sessionId) as Result;
    // Under the Query deadline: the caller knows the Workflow has closed, and a result that does not come at once
    // must not hold the reader.
    const result = (await this.withDeadlines(`the result of session ${sessionId}`, () =>
      this.client.workflow.getHandle(sessionId).result(),
    )) as Result;
    this.results.set(sessionId, result);
    if (this.results.size > ENDED_RESULTS_KEPT) {
      const oldest = this.results.keys().next().value;
      if (oldest !== undefined) this.results.delete(oldest);
    }
    return result;
  }

  /**
   * Runs `query` on the session's latest run (or `runId`), after the queries already queued for it; with `patience`
   * instead of this instance's when given.
   */
  run<Result, Args extends unknown[]>(
    sessionId: string,
    definition: QueryDefinition<Result, Args>,
    args: Args,
    runId?: string,
    patience?: QueryPatience,
  ): Promise<Result> {
    return this.queued(
      sessionId,
      runId ?? 'latest',
      () => this.client.workflow.getHandle(sessionId, runId).query(definition, ...args),
      patience,
    );
  }

  /** Runs `query` after the Queries already queued for the session's run, each attempt under a deadline. */
  private queued<Result>(
    sessionId: string,
    run: string,
    query: () => Promise<Result>,
    patience: QueryPatience = this.patience,
  ): Promise<Result> {
    const key = `${sessionId}/${run}`;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => this.withDeadlines(`a Query of session ${sessionId}`, query, patience));
    this.tails.set(key, next);
    const forget = (): void => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  /** Runs `ask` on this server's client with `patience` (`askWithDeadlines`); `what` names it. */
  private withDeadlines<Result>(
    what: string,
    ask: () => Promise<Result>,
    patience: QueryPatience = this.patience,
  ): Promise<Result> {
    return askWithDeadlines((deadline, run) => this.client.withDeadline(deadline, run), ask, { ...patience, what });
  }
}

/**
 * Runs `ask` under a deadline of `deadlineMs` (through `withDeadline`), asking again when an attempt ends unanswered,
 * at most `attempts` times; then fails with a 504 `timeout_error` naming `what`. An attempt is unanswered when it ends
 * `DEADLINE_EXCEEDED`, or `CANCELLED`: the Temporal server resets the stream (RST_STREAM CANCEL) when the deadline it
 * was given passes, and on a busy client that reset can arrive before the client's own deadline timer fires. Keel never
 * cancels a Query itself, so either means no worker answered in time: for example, after a worker was killed, a
 * session's Workflow task waits on the dead worker's sticky queue for `stickyQueueScheduleToStartTimeout` (10 s).
 */
export async function askWithDeadlines<Result>(
  withDeadline: (deadline: number, ask: () => Promise<Result>) => Promise<Result>,
  ask: () => Promise<Result>,
  options: QueryPatience & { what: string },
): Promise<Result> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await withDeadline(Date.now() + options.deadlineMs, ask);
    } catch (error) {
      if (!isGrpcDeadlineError(error) && !isGrpcCancelledError(error)) throw error;
      if (attempt >= options.attempts) {
        throw new ApiError(
          'timeout_error',
          `Temporal gave no answer to ${options.what} in ${options.attempts} attempts of up to ` +
            `${options.deadlineMs / 1000} s each: the session's worker may be starting, restarting or overloaded. ` +
            'Retry the request.',
        );
      }
    }
  }
}
