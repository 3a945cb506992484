import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { ApiError } from '../api-error';

/**
 * How long a request waits for a session's worker to take an Update (its validator, then its handler, which Keel's
 * Workflow runs in the same task). A worker takes one in milliseconds; without a deadline, a request made while no
 * worker runs would wait until one starts.
 */
export const UPDATE_DEADLINE_MS = 30_000;

/**
 * Runs `update` (an `executeUpdate` on a session's handle) under a deadline of `deadlineMs` on `client`; when it
 * passes, fails with a 504 `timeout_error` that names `what` and says the change is not confirmed. An Update no worker
 * has taken is held in the Temporal server's memory (not in the Workflow's history) until one does, so the change may
 * still apply later, unless the Temporal server restarts first. The answer tells the SDK not to retry
 * (`x-should-retry: false`): a repeat would send the request's other events again (an `events.send` batch whose
 * Signals went before the Update) and queue one more unconfirmed copy of the change.
 */
export async function updateWithDeadline<Result>(
  client: Pick<Client, 'withDeadline'>,
  what: string,
  update: () => Promise<Result>,
  deadlineMs: number = UPDATE_DEADLINE_MS,
): Promise<Result> {
  try {
    return await client.withDeadline(Date.now() + deadlineMs, update);
  } catch (error) {
    if (!(error instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) throw error;
    throw new ApiError(
      'timeout_error',
      `No worker took ${what} within ${deadlineMs / 1000} s: the session's worker may be starting, restarting or ` +
        'overloaded. The change is not confirmed: it may still apply once a worker runs, so read the session before ' +
        'you send it again.',
      undefined,
      false,
    );
  }
}

/** Whether `error` is `updateWithDeadline`'s 504: the change was sent and may still apply. */
export function isUnconfirmedUpdate(error: unknown): boolean {
  return error instanceof ApiError && error.type === 'timeout_error';
}
