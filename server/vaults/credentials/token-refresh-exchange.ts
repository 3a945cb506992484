import type { BetaManagedAgentsRefreshObject } from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import { readRefreshGrantAnswer, refreshGrantRequest } from '../../../common/oauth-refresh-grant';
import type { RefreshGrantParams, RefreshGrantTokens } from '../../../common/oauth-refresh-grant';
import { captureHttpResponse } from './captured-http-response';

/** What one refresh-token exchange needs; the secrets in it are plaintext and must not outlive the call. */
export interface TokenRefreshExchangeInput extends RefreshGrantParams {
  tokenEndpoint: string;
  timeoutMs: number;
}

/**
 * How the exchange went, as the validation answer's `refresh` shows it, with the new tokens when it succeeded.
 * `retryable` marks a failure a later attempt may not repeat (HTTP 429 or 5xx from the token endpoint).
 */
export type TokenRefreshExchangeResult =
  | { refresh: BetaManagedAgentsRefreshObject & { status: 'succeeded' }; tokens: RefreshGrantTokens }
  | { refresh: BetaManagedAgentsRefreshObject & { status: 'failed' }; retryable: boolean }
  | { refresh: BetaManagedAgentsRefreshObject & { status: 'connect_error' } };

/**
 * Exchanges a refresh token at the token endpoint with the same request the worker's refresh sends
 * (`refreshGrantRequest`, redirects not followed), keeping what the worker's refresh drops: the endpoint's error
 * response, scrubbed of the refresh token, the client secret and any token it contains. A 2xx without a usable bearer
 * access token is a failure too.
 */
export async function exchangeRefreshToken(input: TokenRefreshExchangeInput): Promise<TokenRefreshExchangeResult> {
  const request = refreshGrantRequest(input);
  let response: Response;
  try {
    response = await fetch(input.tokenEndpoint, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(input.timeoutMs),
    });
  } catch {
    return { refresh: { status: 'connect_error', http_response: null } };
  }
  const copy = response.clone();
  let text: string;
  try {
    text = await response.text();
  } catch {
    await copy.body?.cancel().catch(() => undefined);
    return { refresh: { status: 'connect_error', http_response: null } };
  }
  const answer = readRefreshGrantAnswer(response.status, text);
  if (answer.type === 'tokens') {
    await copy.body?.cancel().catch(() => undefined);
    return { refresh: { status: 'succeeded', http_response: null }, tokens: answer.tokens };
  }
  const secrets = [input.refreshToken, input.clientSecret];
  if (answer.type === 'unusable') {
    // The unusable answer may still hold the new access token (of another token type): scrub it too.
    const issued = /"access_token"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? null;
    secrets.push(issued);
  }
  return {
    refresh: { status: 'failed', http_response: await captureHttpResponse(copy, secrets) },
    retryable: response.status === 429 || response.status >= 500,
  };
}
