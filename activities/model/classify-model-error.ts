import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../../common/failures';
import type { FailureType } from '../../common/failures';

/** The details a model failure carries to the Workflow (it reads `retryAfterMs` to time the next attempt). */
export interface ModelFailureDetails {
  status: number | null;
  retryAfterMs: number | null;
}

/**
 * Turns a Messages API error into Keel's failure type, once, at the Activity boundary: 429 / 529 / 408 / 409 / 5xx
 * and network failures are retryable (honouring `retry-after`); any other 4xx is the request's fault and is not.
 */
export function classifyModelError(error: unknown): ApplicationFailure {
  if (error instanceof Anthropic.APIError && typeof error.status === 'number') {
    const status = error.status;
    const retryAfterMs = parseRetryAfter(error.headers as Headers | undefined);
    const type = isPromptTooLong(status, error.message)
      ? FAILURE_TYPES.modelPromptTooLong
      : failureTypeForStatus(status);
    return ApplicationFailure.create({
      type,
      message: `The model endpoint answered ${status}: ${error.message}`,
      nonRetryable: type === FAILURE_TYPES.modelRequestRejected || type === FAILURE_TYPES.modelPromptTooLong,
      details: [{ status, retryAfterMs } satisfies ModelFailureDetails],
      ...(retryAfterMs === null ? {} : { nextRetryDelay: retryAfterMs }),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({
    type: FAILURE_TYPES.modelUnavailable,
    message: `The model endpoint could not be reached: ${message}`,
    details: [{ status: null, retryAfterMs: null } satisfies ModelFailureDetails],
  });
}

/**
 * Whether a model error says the prompt does not fit the context window: the Messages API answers 400
 * `invalid_request_error` with "prompt is too long: N tokens > M maximum" (some gateways say "context length").
 */
export function isPromptTooLong(status: number, message: string): boolean {
  return status === 400 && /prompt is too long|context (length|window)|too many (input )?tokens/i.test(message);
}

/** The failure type for an HTTP status of the model endpoint. */
export function failureTypeForStatus(status: number): FailureType {
  if (status === 429) return FAILURE_TYPES.modelRateLimited;
  if (status === 529) return FAILURE_TYPES.modelOverloaded;
  if (status === 408 || status === 409 || status >= 500) return FAILURE_TYPES.modelUnavailable;
  return FAILURE_TYPES.modelRequestRejected;
}

/** Reads `retry-after-ms` or `retry-after` (seconds or an HTTP date) into milliseconds; `null` when absent. */
export function parseRetryAfter(headers: Headers | undefined): number | null {
  const milliseconds = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get('retry-after');
  if (value === null || value === undefined) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}
