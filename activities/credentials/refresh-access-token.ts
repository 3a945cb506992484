import { readRefreshGrantAnswer, refreshGrantRequest } from '../../common/oauth-refresh-grant';
import type { RefreshGrantParams, RefreshGrantTokens, TokenEndpointAuthMethod } from '../../common/oauth-refresh-grant';

export type { TokenEndpointAuthMethod };

/** What the refresh grant needs; the secrets in it are plaintext and must not outlive the call. */
export interface RefreshAccessTokenInput extends RefreshGrantParams {
  tokenEndpoint: string;
  timeoutMs: number;
  fetch: typeof fetch;
}

/** The token endpoint's answer, as far as Keel uses it. */
export type RefreshAccessTokenResult = RefreshGrantTokens;

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
 * Runs the OAuth 2.0 refresh grant (RFC 6749 section 6) as `refreshGrantRequest` builds it: a form-encoded POST to the
 * token endpoint. Redirects are not followed, so the secrets go to the configured endpoint only.
 */
export async function refreshAccessToken(
  input: RefreshAccessTokenInput,
  describe: string,
): Promise<RefreshAccessTokenResult> {
  const endpoint = new URL(input.tokenEndpoint);
  const where = `${describe}: refreshing its access token at ${endpoint.origin}${endpoint.pathname}`;
  const request = refreshGrantRequest(input);
  let response: Response;
  try {
    response = await input.fetch(endpoint, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(input.timeoutMs),
    });
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'could not be reached';
    throw new CredentialRefreshError(`${where} failed: the token endpoint ${reason}.`, true);
  }
  const answer = readRefreshGrantAnswer(response.status, await response.text().catch(() => ''));
  if (answer.type === 'tokens') return answer.tokens;
  if (answer.type === 'unusable') throw new CredentialRefreshError(`${where} failed: ${answer.reason}.`, false);
  const retryable = answer.status === 429 || answer.status >= 500;
  throw new CredentialRefreshError(
    `${where} failed: HTTP ${answer.status}${answer.code === null ? '' : ` (${answer.code})`}.`,
    retryable,
  );
}
