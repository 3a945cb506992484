import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../common/failures';

/** The `session.error` types a model call can produce. */
export type ModelErrorType =
  'model_rate_limited_error' | 'model_overloaded_error' | 'model_request_failed_error' | 'unknown_error';

/** How the session Workflow treats one failed model call. */
export interface ModelFailureDecision {
  /** The `session.error` object to log, without its `retry_status` (the caller knows whether it retries). */
  error: { type: ModelErrorType; message: string };
  retryable: boolean;
  /** Delay before the next attempt when retryable: the provider's `retry-after` when it sent one. */
  retryDelayMs: number;
  /** The model refused the prompt as longer than its context window: compaction, not a retry, can fix it. */
  promptTooLong: boolean;
  /** Compaction could not make room (the most recent messages alone do not fit): nothing can fix this call. */
  cannotCompact?: boolean;
}

/** Details the `callModel` Activity attaches to its failures (Temporal does not hand `nextRetryDelay` back). */
export interface ModelFailureDetails {
  status: number | null;
  retryAfterMs: number | null;
}

const MAX_BACKOFF_MS = 30_000;

/** Classifies a failed `callModel` for attempt `attempt` (1-based): what to log, whether and when to retry. */
export function decideModelFailure(error: unknown, attempt: number): ModelFailureDecision {
  const backoffMs = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** (attempt - 1));
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as Partial<ModelFailureDetails> | undefined;
    const retryDelayMs = details?.retryAfterMs ?? backoffMs;
    const message = cause.message;
    const promptTooLong = false;
    switch (cause.type) {
      case FAILURE_TYPES.modelRateLimited:
        return { error: { type: 'model_rate_limited_error', message }, retryable: true, retryDelayMs, promptTooLong };
      case FAILURE_TYPES.modelOverloaded:
        return { error: { type: 'model_overloaded_error', message }, retryable: true, retryDelayMs, promptTooLong };
      case FAILURE_TYPES.modelUnavailable:
        return { error: { type: 'model_request_failed_error', message }, retryable: true, retryDelayMs, promptTooLong };
      case FAILURE_TYPES.modelRequestRejected:
        return {
          error: { type: 'model_request_failed_error', message },
          retryable: false,
          retryDelayMs: 0,
          promptTooLong,
        };
      case FAILURE_TYPES.compactionLimitReached:
        return {
          error: { type: 'model_request_failed_error', message },
          retryable: false,
          retryDelayMs: 0,
          promptTooLong,
          cannotCompact: true,
        };
      case FAILURE_TYPES.modelPromptTooLong:
        return {
          error: { type: 'model_request_failed_error', message },
          retryable: false,
          retryDelayMs: 0,
          promptTooLong: true,
        };
      default:
        return {
          error: { type: 'unknown_error', message },
          retryable: !cause.nonRetryable,
          retryDelayMs,
          promptTooLong,
        };
    }
  }
  if (cause instanceof TimeoutFailure) {
    const message = `The model call timed out: ${cause.message}`;
    return {
      error: { type: 'model_request_failed_error', message },
      retryable: true,
      retryDelayMs: backoffMs,
      promptTooLong: false,
    };
  }
  const message = cause instanceof Error ? cause.message : 'The model call failed.';
  return { error: { type: 'unknown_error', message }, retryable: true, retryDelayMs: backoffMs, promptTooLong: false };
}
