import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RateLimits } from '../common/config';
import { ApiError } from './api-error';

/** Which limit a request counts against: creates (POST to a collection), reads (GET), or none. */
export type RequestClass = 'create' | 'read' | null;

/** Collections a POST creates in: `/v1/<resource>` and the nested ones (`/v1/vaults/{id}/credentials`). */
const CREATE_PATH = /^\/v1\/(agents|sessions|environments|vaults|files|vaults\/[^/]+\/credentials)\/?$/;

/**
 * The class of a request by method and path; `/health`, `/metrics` and updates, deletes and events count against
 * nothing.
 */
export function requestClass(method: string, url: string): RequestClass {
  const path = url.split('?')[0] ?? '';
  if (path === '/health' || path === '/metrics') return null;
  if (method === 'GET') return 'read';
  if (method === 'POST' && CREATE_PATH.test(path)) return 'create';
  return null;
}

/**
 * Per-API-key rate limits on create and read requests (`@fastify/rate-limit`, fixed one-minute windows, counted in
 * this server's memory: with several servers, each counts its own). Over the limit, a request is answered 429
 * `rate_limit_error` in the Anthropic shape with `retry-after`, which the SDK waits out and retries. Counted after
 * authentication, so a wrong key never uses up anyone's budget. Nothing is registered when both limits are 0.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  limits: RateLimits,
  apiKeyOf: (request: FastifyRequest) => string,
): Promise<void> {
  if (limits.createPerMinute === 0 && limits.readPerMinute === 0) return;
  const perMinute = { create: limits.createPerMinute, read: limits.readPerMinute };
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    timeWindow: 60_000,
    allowList: (request) => {
      const kind = requestClass(request.method, request.url);
      return kind === null || perMinute[kind] === 0;
    },
    keyGenerator: (request) => `${requestClass(request.method, request.url) ?? 'none'}:${apiKeyOf(request)}`,
    max: (request) => {
      const kind = requestClass(request.method, request.url);
      return kind === null ? Number.MAX_SAFE_INTEGER : perMinute[kind];
    },
    addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
    addHeaders: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
      'retry-after': true,
    },
    errorResponseBuilder: (request, context) => {
      const kind = requestClass(request.method, request.url) ?? 'request';
      return new ApiError(
        'rate_limit_error',
        `Rate limit reached: at most ${context.max} ${kind} requests per minute for this API key; retry after ${context.after}.`,
      );
    },
  });
}
