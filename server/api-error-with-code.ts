import { ApiError } from './api-error';
import type { ApiErrorType } from './api-error';

/**
 * An `ApiError` that also carries `error.details.error_code`, the stable code by which the SDK picks a typed error
 * class (for example `400 environment_archived` becomes `BetaEnvironmentArchivedError`).
 */
export class ApiErrorWithCode extends ApiError {
  constructor(
    type: ApiErrorType,
    readonly errorCode: string,
    message: string,
  ) {
    super(type, message);
  }

  /** The response body, with `details.error_code`. */
  override toBody(): {
    type: 'error';
    error: { type: ApiErrorType; message: string; details: { error_code: string } };
  } {
    return {
      type: 'error',
      error: { type: this.type, message: this.message, details: { error_code: this.errorCode } },
    };
  }
}
