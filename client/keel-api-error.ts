/** An error answered by the Keel API, with its HTTP status and Anthropic error type. */
export class KeelApiError extends Error {
  override readonly name = 'KeelApiError';

  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly requestId: string | null,
  ) {
    super(message);
  }

  /** Builds the error from a non-2xx response, reading the Anthropic error shape when the body has it. */
  static async fromResponse(response: Response): Promise<KeelApiError> {
    const text = await response.text();
    let type = 'api_error';
    let message = text || response.statusText;
    try {
      const body = JSON.parse(text) as { error?: { type?: string; message?: string } };
      type = body.error?.type ?? type;
      message = body.error?.message ?? message;
    } catch {
      // The body is not JSON: keep its text as the message.
    }
    return new KeelApiError(
      response.status,
      type,
      `${response.status} ${type}: ${message}`,
      response.headers.get('request-id'),
    );
  }
}
