/** How a token endpoint authenticates the client (RFC 6749 section 2.3.1, and `none` for public clients). */
export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** What the refresh grant needs; the secrets in it are plaintext and must not outlive the call. */
export interface RefreshAccessTokenInput {
  tokenEndpoint: string;
  clientId: string;
  method: TokenEndpointAuthMethod;
  /** Set for `client_secret_basic` and `client_secret_post`. */
  clientSecret: string | null;
  refreshToken: string;
  scope: string | null;
  /** The RFC 8707 resource indicator, when the credential names one. */
  resource: string | null;
  timeoutMs: number;
  fetch: typeof fetch;
}

/** The token endpoint's answer, as far as Keel uses it. */
export interface RefreshAccessTokenResult {
  accessToken: string;
  /** A rotated refresh token, when the endpoint issued one. */
  refreshToken: string | null;
  /** Seconds until the new access token expires, when the endpoint said. */
  expiresInSeconds: number | null;
}

/**
 * A refresh that failed. The message names the credential, the endpoint (origin and path only) and the HTTP status or
 * the OAuth error code, never a token, secret or response body. `retryable` is false when trying again cannot help
 * (the endpoint refused the grant or answered something unusable) and true for network errors, 429 and 5xx.
 */
export class CredentialRefreshError extends Error {
  override readonly name = 'CredentialRefreshError';

  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * Runs the OAuth 2.0 refresh grant (RFC 6749 section 6): a form-encoded POST of `grant_type=refresh_token` to the token
 * endpoint, the client authenticated as `method` says (HTTP Basic with form-encoded id and secret, or both in the
 * body; for `none`, only `client_id` in the body). Redirects are not followed, so the secrets go to the configured
 * endpoint only.
 */
export async function refreshAccessToken(
  input: RefreshAccessTokenInput,
  describe: string,
): Promise<RefreshAccessTokenResult> {
  const endpoint = new URL(input.tokenEndpoint);
  const where = `${describe}: refreshing its access token at ${endpoint.origin}${endpoint.pathname}`;
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: input.refreshToken });
  if (input.scope !== null) form.set('scope', input.scope);
  if (input.resource !== null) form.set('resource', input.resource);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (input.method === 'client_secret_basic') {
    const user = formEncode(input.clientId);
    const password = formEncode(input.clientSecret ?? '');
    headers['authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  } else {
    form.set('client_id', input.clientId);
    if (input.method === 'client_secret_post') form.set('client_secret', input.clientSecret ?? '');
  }

  let response: Response;
  try {
    response = await input.fetch(endpoint, {
      method: 'POST',
      headers,
      body: form.toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(input.timeoutMs),
    });
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'could not be reached';
    throw new CredentialRefreshError(`${where} failed: the token endpoint ${reason}.`, true);
  }
  const text = await response.text().catch(() => '');
  const body = parseJsonObject(text);
  if (!response.ok) {
    const code = typeof body?.['error'] === 'string' && /^[\w.-]{1,64}$/.test(body['error']) ? body['error'] : null;
    const retryable = response.status === 429 || response.status >= 500;
    throw new CredentialRefreshError(
      `${where} failed: HTTP ${response.status}${code === null ? '' : ` (${code})`}.`,
      retryable,
    );
  }
  const accessToken = body?.['access_token'];
  if (typeof accessToken !== 'string' || !/^[\x21-\x7E]+$/.test(accessToken)) {
    throw new CredentialRefreshError(`${where} failed: the answer has no usable access_token.`, false);
  }
  const tokenType = body?.['token_type'];
  if (typeof tokenType === 'string' && tokenType.toLowerCase() !== 'bearer') {
    throw new CredentialRefreshError(`${where} failed: the token type is not bearer.`, false);
  }
  const refreshToken = body?.['refresh_token'];
  const expiresIn = Number(body?.['expires_in']);
  return {
    accessToken,
    refreshToken: typeof refreshToken === 'string' && /^[\x21-\x7E]+$/.test(refreshToken) ? refreshToken : null,
    expiresInSeconds: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : null,
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
