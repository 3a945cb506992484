/** How a token endpoint authenticates the client (RFC 6749 section 2.3.1, and `none` for public clients). */
export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** What the refresh grant sends; the secrets in it are plaintext and must not outlive the call. */
export interface RefreshGrantParams {
  clientId: string;
  method: TokenEndpointAuthMethod;
  /** Set for `client_secret_basic` and `client_secret_post`. */
  clientSecret: string | null;
  refreshToken: string;
  scope: string | null;
  /** The RFC 8707 resource indicator, when the credential names one. */
  resource: string | null;
}

/** The HTTP request of a refresh grant, without its URL (the token endpoint) and method (`POST`). */
export interface RefreshGrantRequest {
  headers: Record<string, string>;
  /** `application/x-www-form-urlencoded`. */
  body: string;
}

/** A token endpoint's successful answer, as far as Keel uses it. */
export interface RefreshGrantTokens {
  accessToken: string;
  /** A rotated refresh token, when the endpoint issued one. */
  refreshToken: string | null;
  /** Seconds until the new access token expires, when the endpoint said. */
  expiresInSeconds: number | null;
}

/**
 * What a token endpoint's answer means: new tokens, an HTTP error (with the OAuth `error` code when it sent a safe
 * one), or a 2xx that cannot be used (no usable `access_token`, or a token type other than bearer).
 */
export type RefreshGrantAnswer =
  | { type: 'tokens'; tokens: RefreshGrantTokens }
  | { type: 'http_error'; status: number; code: string | null }
  | { type: 'unusable'; reason: string };

/**
 * The OAuth 2.0 refresh grant (RFC 6749 section 6) as an HTTP request: `grant_type=refresh_token`, form-encoded, the
 * client authenticated as `method` says (HTTP Basic with form-encoded id and secret, or both in the body; for `none`,
 * only `client_id` in the body). Pure, so the worker's refresh and the server's credential validation send the same
 * request; both post it with redirects off, so the secrets go to the configured endpoint only.
 */
export function refreshGrantRequest(params: RefreshGrantParams): RefreshGrantRequest {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: params.refreshToken });
  if (params.scope !== null) form.set('scope', params.scope);
  if (params.resource !== null) form.set('resource', params.resource);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (params.method === 'client_secret_basic') {
    const user = formEncode(params.clientId);
    const password = formEncode(params.clientSecret ?? '');
    // Form encoding leaves only ASCII, which `btoa` takes as it is.
    headers['authorization'] = `Basic ${btoa(`${user}:${password}`)}`;
  } else {
    form.set('client_id', params.clientId);
    if (params.method === 'client_secret_post') form.set('client_secret', params.clientSecret ?? '');
  }
  return { headers, body: form.toString() };
}

/** Reads a token endpoint's answer (`status` and body `text`) to a refresh grant. */
export function readRefreshGrantAnswer(status: number, text: string): RefreshGrantAnswer {
  const body = parseJsonObject(text);
  if (status < 200 || status > 299) {
    const code = typeof body?.['error'] === 'string' && /^[\w.-]{1,64}$/.test(body['error']) ? body['error'] : null;
    return { type: 'http_error', status, code };
  }
  const accessToken = body?.['access_token'];
  if (typeof accessToken !== 'string' || !/^[\x21-\x7E]+$/.test(accessToken)) {
    return { type: 'unusable', reason: 'the answer has no usable access_token' };
  }
  const tokenType = body?.['token_type'];
  if (typeof tokenType === 'string' && tokenType.toLowerCase() !== 'bearer') {
    return { type: 'unusable', reason: 'the token type is not bearer' };
  }
  const refreshToken = body?.['refresh_token'];
  const expiresIn = Number(body?.['expires_in']);
  return {
    type: 'tokens',
    tokens: {
      accessToken,
      refreshToken: typeof refreshToken === 'string' && /^[\x21-\x7E]+$/.test(refreshToken) ? refreshToken : null,
      expiresInSeconds: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : null,
    },
  };
}

/** `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 section 2.3.1 asks for Basic credentials. */
function formEncode(value: string): string {
  return new URLSearchParams({ value }).toString().slice('value='.length);
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
