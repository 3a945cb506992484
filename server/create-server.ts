import type { Client } from '@temporalio/client';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LogConfig, RateLimits } from '../common/config';
import type { BlobStore } from '../common/blob-store';
import type { LiveEvents } from '../common/live-events';
import { AgentService } from './agents/agent-service';
import { ApiError } from './api-error';
import { authenticate } from './api-keys';
import type { Principal } from './api-keys';
import { CredentialService } from './vaults/credentials/credential-service';
import { EnvironmentService } from './environments/environment-service';
import { requireEnvironmentKeyScope } from './environments/work/environment-key-scope';
import { registerWorkRoutes } from './environments/work/work-routes';
import { WorkService } from './environments/work/work-service';
import { FileService } from './files/file-service';
import type { FileServiceOptions } from './files/file-service';
import { registerAgentRoutes } from './agents/agent-routes';
import { registerCredentialRoutes } from './vaults/credentials/credential-routes';
import { registerEnvironmentRoutes } from './environments/environment-routes';
import { registerFileRoutes } from './files/file-routes';
import { registerHealthRoute } from './health-route';
import { isConsoleRequest, registerConsoleRoutes } from './console-routes';
import type { HealthCheck } from './health-route';
import { registerSessionEventRoutes } from './sessions/events/event-routes';
import { registerSessionResourceRoutes } from './sessions/resources/resource-routes';
import { registerSessionRoutes } from './sessions/session-routes';
import { RepositoryTokens } from './sessions/resources/repository-tokens';
import { SessionResourceService } from './sessions/resources/session-resource-service';
import { registerVaultRoutes } from './vaults/vault-routes';
import { registerRateLimits } from './rate-limits';
import { registerMetrics } from './metrics';
import { newRequestId, registerRequestTelemetry, serverLogOptions } from './request-telemetry';
import type { Registry } from 'prom-client';
import { SessionEventReader } from './sessions/events/session-event-reader';
import { SessionFeeds } from './sessions/events/session-feed';
import { SessionQueries } from './sessions/session-queries';
import { SessionService } from './sessions/session-service';
import type { SessionServiceOptions } from './sessions/session-service';
import type { ControlPlaneStore } from './store/control-plane-store';
import { VaultService } from './vaults/vault-service';

/** What the HTTP API is built from. */
export interface ServerOptions extends Omit<
  SessionServiceOptions,
  'client' | 'queries' | 'agents' | 'environments' | 'files' | 'vaults' | 'repositoryTokens'
> {
  temporal: Client;
  bus: LiveEvents;
  /** The blob store the workers write to (event archives, tool outputs): the server reads the log's bodies there. */
  blobs: BlobStore;
  apiKey: string;
  healthChecks: HealthCheck[];
  /** The control-plane store: agents, their versions, environments and files' metadata. */
  store: ControlPlaneStore;
  /** Largest accepted request body, in bytes (file uploads have their own limit, in `files`). */
  bodyLimit?: number;
  /** Where uploaded files' content lives and how large one may be. */
  files: FileServiceOptions;
  /**
   * The key that seals vault secrets (see `resolveSecretKey`); the worker must use the same one. Without it, vaults
   * work and creating or changing a credential's secrets answers 500.
   */
  secretKey?: Uint8Array;
  /** Per-key rate limits (off when absent or 0). */
  rateLimits?: RateLimits;
  /** Metrics of a worker in the same process, served with the server's at `/metrics`. */
  metricsRegistries?: Registry[];
  /** How requests are logged (`KEEL_LOG_FORMAT`): with `json`, a line per request; by default none. */
  logs?: LogConfig;
}

/**
 * Builds the HTTP API on Fastify (chosen for its schema-less speed, first-class TypeScript types and hooks for auth
 * and error shaping): every route needs the API key, every error has the Anthropic shape, every response a
 * `request-id` header.
 */
export function createServer(options: ServerOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 10 * 1024 * 1024,
    ...serverLogOptions(options.logs),
    // Request ids are Keel's (`req_…`), the same in the `request-id` header, the request's log line and its span.
    genReqId: newRequestId,
    // Event streams stay open for as long as their clients read: closing the server ends them rather than waiting.
    forceCloseConnections: true,
  });
  const queries = new SessionQueries(options.temporal);
  const agents = new AgentService(options.store);
  const environments = new EnvironmentService(options.store);
  const files = new FileService(options.store, options.files);
  const vaults = new VaultService(options.store);
  const credentials = new CredentialService(options.store, vaults, options.secretKey);
  const repositoryTokens = new RepositoryTokens(options.store.repositoryTokens, options.secretKey);
  const sessions = new SessionService({
    ...options,
    client: options.temporal,
    queries,
    agents,
    environments,
    files,
    vaults,
    repositoryTokens,
  });
  const reader = new SessionEventReader(queries, options.blobs);
  const feeds = new SessionFeeds(reader, options.bus);

  registerRequestTelemetry(app);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('request-id', request.id);
    request.principal = API_PRINCIPAL;
    if (request.url === '/health' || request.url === '/metrics') return;
    // The console's static files: the page asks for the key and sends it with each API request.
    if (isConsoleRequest(request.method, request.url)) return;
    const principal = await authenticate(givenApiKey(request), options.apiKey, options.store.apiKeys);
    if (principal === null) {
      throw new ApiError(
        'authentication_error',
        'Missing or invalid API key: send it as x-api-key or Authorization: Bearer.',
      );
    }
    request.principal = principal;
  });
  // An environment key reaches its environment's work queue and sessions only (checked once the body is parsed).
  app.addHook('preHandler', async (request) => {
    const { principal } = request;
    if (principal?.kind !== 'environment') return;
    await requireEnvironmentKeyScope(
      principal.environmentId,
      request,
      async (sessionId) => (await sessions.get(sessionId)).environment_id,
    );
  });

  app.setErrorHandler((error, _request, reply) => {
    const apiError = toApiError(error);
    // A conflict does not go away by itself: the SDK, which retries 409 by default, is told not to.
    if (apiError.status === 409) void reply.header('x-should-retry', 'false');
    void reply.status(apiError.status).send(apiError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const apiError = new ApiError('not_found_error', `No route ${request.method} ${request.url.split('?')[0] ?? ''}.`);
    void reply.status(404).send(apiError.toBody());
  });

  registerConsoleRoutes(app);
  // The routes live in one scope whose rate limits (when configured) are registered before them, so they apply.
  void app.register(async (api) => {
    await registerRateLimits(api, options.rateLimits ?? NO_RATE_LIMITS, givenApiKey);
    registerHealthRoute(api, options.healthChecks);
    registerMetrics(api, options.temporal, options.metricsRegistries);
    registerSessionRoutes(api, sessions);
    registerSessionEventRoutes(api, sessions, reader, feeds);
    registerSessionResourceRoutes(
      api,
      new SessionResourceService(options.temporal, sessions, files, repositoryTokens, options.repositoryHosts ?? []),
    );
    registerAgentRoutes(api, agents);
    registerEnvironmentRoutes(api, environments);
    registerWorkRoutes(api, new WorkService(options.store.work, environments));
    registerFileRoutes(api, files);
    registerVaultRoutes(api, vaults);
    registerCredentialRoutes(api, credentials);
  });
  app.addHook('onReady', async () => {
    await files.removeLeftovers().catch((error: unknown) => console.error('keel server: files folder sweep', error));
  });
  return app;
}

const NO_RATE_LIMITS: RateLimits = { createPerMinute: 0, readPerMinute: 0 };

/** The principal of /health and /metrics, which need no key (and of every request until it is authenticated). */
const API_PRINCIPAL: Principal = { kind: 'api' };

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request acts as, set by the authentication hook before any route runs (see `principalOf`). */
    principal: Principal | null;
  }
}

/** The API key a request carries: `x-api-key`, else `Authorization: Bearer`, else empty. */
function givenApiKey(request: FastifyRequest): string {
  const bearer = request.headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header : (bearer ?? '');
}

function toApiError(error: unknown): ApiError {
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
