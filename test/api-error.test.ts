import { afterEach, describe, expect, it, vi } from 'vitest';

import { ApiError, toApiError } from '../server/api-error';
import { errorFrame } from '../server/sessions/events/event-routes';

/** The JSON of an SSE `error` frame, after checking its event name. */
function frameData(frame: string): unknown {
  const match = /^event: error\ndata: (.*)\n\n$/.exec(frame);
  if (match?.[1] === undefined) throw new Error(`not an error frame: ${JSON.stringify(frame)}`);
  return JSON.parse(match[1]);
}

describe('toApiError and the event stream error frame', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('shows an ApiError as it is, in a response and in a stream frame alike', () => {
    const error = new ApiError('timeout_error', 'Temporal gave no answer to a Query of session sesn_x.');
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(toApiError(error)).toBe(error);
    expect(frameData(errorFrame(error))).toEqual({
      type: 'error',
      error: { type: 'timeout_error', message: 'Temporal gave no answer to a Query of session sesn_x.' },
    });
  });

  it('logs an unexpected error and shows only a 500 api_error, without its message', () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const unexpected = new Error('14 UNAVAILABLE: No connection established to 10.0.0.7:7233 (/srv/keel/data)');
    const shown = toApiError(unexpected);
    expect(shown.status).toBe(500);
    expect(shown.toBody()).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'Internal error: see the server log.' },
    });
    expect(frameData(errorFrame(unexpected))).toEqual(shown.toBody());
    expect(logged).toHaveBeenCalledWith('keel server: unexpected error', unexpected);
  });

  it('shows a Fastify request error as its 4xx, and a body over the limit as request_too_large', () => {
    const tooLarge = toApiError(Object.assign(new Error('body'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }));
    expect([tooLarge.type, tooLarge.status]).toEqual(['request_too_large', 413]);
    const malformed = toApiError(Object.assign(new Error('Unexpected token } in JSON'), { statusCode: 400 }));
    expect([malformed.type, malformed.status, malformed.message]).toEqual([
      'invalid_request_error',
      400,
      'Unexpected token } in JSON',
    ]);
  });
});
