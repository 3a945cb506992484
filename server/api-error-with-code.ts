import { API_ERROR_STATUS, ApiError } from './api-error';
import type { ApiErrorType } from './api-error';

/**
 * An `ApiError` that also carries `error.details.error_code`, the stable code by which the SDK picks a typed error
 * class (for example `400 environment_archived` becomes `BetaEnvironmentArchivedError`), with any further `details`
 * the code documents and, where the code needs one, its own HTTP status (`412 heartbeat_precondition_failed`).
 */
export class ApiErrorWithCode extends ApiError {
  constructor(
    type: ApiErrorType,
    readonly errorCode: string,
    message: string,
    options: { status?: number; details?: Record<string, unknown> } = {},
  ) {
    super(type, message, options.status ?? API_ERROR_STATUS[type]);
    this.details = options.details ?? {};
  }

  private readonly details: Record<string, unknown>;

  /** The response body, with `details.error_code`. */
  override toBody(): {
    type: 'error';
    error: { type: ApiErrorType; message: string; details: { error_code: string } };
  } {
    return {
      type: 'error',
      error: { type: this.type, message: this.message, details: { ...this.details, error_code: this.errorCode } },
    };
  }
}
