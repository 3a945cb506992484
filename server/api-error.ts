/** The error types of the Anthropic API, with the HTTP status each goes with. */
export const API_ERROR_STATUS = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
} as const;

/** One of the Anthropic API's error types. */
export type ApiErrorType = keyof typeof API_ERROR_STATUS;

/** An error the HTTP API answers with, in the Anthropic shape `{"type":"error","error":{"type","message"}}`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  /**
   * `retry`, when set, is sent as `x-should-retry`, which the official SDK obeys over its own rule (it retries 408, 409,
   * 429 and 5xx): `false` for an error that a repeat of the same request would not mend, or would make worse.
   */
  constructor(
    readonly type: ApiErrorType,
    message: string,
    readonly status: number = API_ERROR_STATUS[type],
    readonly retry?: boolean,
  ) {
    super(message);
  }

  /** The response body. */
  toBody(): { type: 'error'; error: { type: ApiErrorType; message: string } } {
    return { type: 'error', error: { type: this.type, message: this.message } };
  }
}

/** A 400 naming the field that is wrong. */
export function invalidField(field: string, problem: string): ApiError {
  return new ApiError('invalid_request_error', `${field}: ${problem}`);
}

/**
 * The error a client is shown for `error`: an `ApiError` as it is, a Fastify request error (a body over the limit, a
 * malformed request) as the 4xx it is, anything else as a 500 `api_error` that says no more than to see the server
 * log, where it is written (a raw message could carry paths or addresses the client has no business seeing).
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) {
    if (error.status >= 500) console.error('keel server:', error.message);
    return error;
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new ApiError('request_too_large', 'The request body is over the limit.');
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new ApiError('invalid_request_error', fastifyError.message ?? 'Invalid request.', fastifyError.statusCode);
  }
  console.error('keel server: unexpected error', error);
  return new ApiError('api_error', 'Internal error: see the server log.');
}
