import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';

/** How an Activity's code reaches Temporal: a heartbeat and the cancellation signal. Both absent outside an Activity. */
export interface ActivityControl {
  /**
   * Heartbeats; with `details`, records them as this attempt's checkpoint, which every later heartbeat carries (a
   * heartbeat without details keeps the last ones) and a retried attempt reads as `previousHeartbeat`.
   */
  heartbeat?: (details?: unknown) => void;
  /**
   * Records `details` as this attempt's checkpoint without sending a heartbeat: the next one carries them (within
   * `ACTIVITY_HEARTBEAT_INTERVAL_MS` under `whileHeartbeating`). An Activity that ends before then sends none.
   */
  record?: (details: unknown) => void;
  signal?: AbortSignal;
  /** The last details the previous attempt of this Activity heartbeated, when it is a retry that had some. */
  previousHeartbeat?: unknown;
}

/** The current Activity's control, or an empty one when called directly (tests, scripts), so the code simply runs. */
export function currentActivityControl(): ActivityControl {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return {};
  }
  const previous: unknown = context.info.heartbeatDetails;
  // A retry carries the previous attempt's checkpoint until it records its own, so a second crash does not lose it.
  let details = previous;
  const heartbeat = (next?: unknown): void => {
    if (next !== undefined) details = next;
    context.heartbeat(details);
  };
  return {
    heartbeat,
    record: (next: unknown) => {
      details = next;
    },
    signal: context.cancellationSignal,
    ...(previous === undefined || previous === null ? {} : { previousHeartbeat: previous }),
  };
}

/** How often an I/O Activity heartbeats while it waits, well inside any sensible heartbeat timeout. */
export const ACTIVITY_HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * Runs `work` while heartbeating every `intervalMs` (default `ACTIVITY_HEARTBEAT_INTERVAL_MS`), so Temporal sees a slow
 * call as alive and can deliver a cancellation to it; without a heartbeat it just runs `work`. The first heartbeat goes
 * after one interval, not at the start: a call that ends sooner (most model calls and tool runs) costs Temporal no
 * heartbeat at all, which in `npm run bench` is a tenth of Temporal's CPU per step.
 */
export async function whileHeartbeating<Result>(
  control: ActivityControl,
  work: () => Promise<Result>,
  intervalMs = ACTIVITY_HEARTBEAT_INTERVAL_MS,
): Promise<Result> {
  const heartbeat = control.heartbeat;
  if (heartbeat === undefined) return work();
  const timer = setInterval(() => heartbeat(), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The error a cancelled Activity rejects with: the signal's reason when it is an error, else a `CancelledFailure`. */
export function cancellationError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new CancelledFailure(typeof reason === 'string' ? reason : 'The Activity was cancelled.');
}

/**
 * A deadline of `timeoutMs` for an outbound call, and the signal that aborts it: the deadline or the Activity's
 * cancellation, whichever comes first. `deadline.aborted` tells a timeout from a cancellation.
 */
export function deadlineSignal(
  control: ActivityControl,
  timeoutMs: number,
): { deadline: AbortSignal; signal: AbortSignal } {
  const deadline = AbortSignal.timeout(timeoutMs);
  return { deadline, signal: control.signal === undefined ? deadline : AbortSignal.any([control.signal, deadline]) };
}
