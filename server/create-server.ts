import type { Client } from '@temporalio/client';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LogConfig, RateLimits } from '../common/config';
import type { BlobStore } from '../common/blob-store';
import type { LiveEvents } from '../common/live-events';
import { AgentService } from './agents/agent-service';
import { ApiError, invalidField, toApiError } from './api-error';
import { DEFAULT_WORKSPACE_ID } from '../common/workspace';
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
import { registerCredentialValidationRoutes } from './vaults/credentials/credential-validation-routes';
import { CredentialValidationService } from './vaults/credentials/credential-validation-service';
import { registerEnvironmentRoutes } from './environments/environment-routes';
import { registerFileRoutes } from './files/file-routes';
import { registerHealthRoute } from './health-route';
import { isConsoleRequest, registerConsoleRoutes } from './console-routes';
import type { ConsoleOptions } from './console-routes';
import type { HealthCheck } from './health-route';
import { registerSessionEventRoutes } from './sessions/events/event-routes';
import { registerSessionResourceRoutes } from './sessions/resources/resource-routes';
import { SessionThreadService } from './sessions/threads/session-thread-service';
import { registerSessionThreadRoutes } from './sessions/threads/thread-routes';
import { registerSessionRoutes } from './sessions/session-routes';
import { RepositoryTokens } from './sessions/resources/repository-tokens';
import { SessionResourceService } from './sessions/resources/session-resource-service';
import { registerVaultRoutes } from './vaults/vault-routes';
import { registerMemoryStoreRoutes } from './memory-stores/memory-store-routes';
import { MemoryStoreService } from './memory-stores/memory-store-service';
import { MemoryService } from './memory-stores/memory-service';
import { registerSkillRoutes } from './skills/skill-routes';
import { registerDeploymentRoutes } from './deployments/deployment-routes';
import { registerDeploymentRunRoutes } from './deployment-runs/deployment-run-routes';
import { DeploymentService } from './deployments/deployment-service';
import { DeploymentSchedules } from './deployments/deployment-schedules';
import { registerDreamRoutes } from './dreams/dream-routes';
import { DreamService } from './dreams/dream-service';
import { SkillService } from './skills/skill-service';
import { registerAdminRoutes } from './organizations/admin-routes';
import { AdminService } from './organizations/admin-service';
import { registerRateLimits } from './rate-limits';
import { liveDeltaMetrics, registerMetrics } from './metrics';
import { collectRoutes } from './openapi/openapi-document';
import { registerOpenApiRoute } from './openapi/openapi-route';
import { newRequestId, registerRequestTelemetry, serverLogOptions } from './request-telemetry';
import type { Registry } from 'prom-client';
import { SessionEventReader } from './sessions/events/session-event-reader';
import { SessionFeeds } from './sessions/events/session-feed';
import { SessionQueries } from './sessions/session-queries';
import { SessionService } from './sessions/session-service';
import type { SessionServiceOptions } from './sessions/session-service';
import type { ControlPlaneStore } from './store/control-plane-store';
import { VaultService } from './vaults/vault-service';
import { currentRequestScope } from './request-scope';
import { workspaceScopedStore } from './store/workspace-scoped-store';
import { requireOwnWorkspaceParameters, workspaceParameterChecks } from './workspace-guard';

/** What the HTTP API is built from. */
export interface ServerOptions extends Omit<
  SessionServiceOptions,
  'client' | 'queries' | 'agents' | 'environments' | 'files' | 'vaults' | 'repositoryTokens' | 'memoryStores' | 'skills'
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
  /** Pages of Prometheus text served after those (the Temporal runtime's own metrics). */
  metricsPages?: (() => Promise<string>)[];
  /** How requests are logged (`KEEL_LOG_FORMAT`): with `json`, a line per request; by default none. */
  logs?: LogConfig;
  /** What the web console's page is told of the deployment (the Temporal UI's address). */
  console?: ConsoleOptions;
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
    // What Fastify's router refuses before any hook runs (a malformed URL, an over-long path parameter) gets the
    // Anthropic error shape too.
    frameworkErrors: (error, request, reply) => {
      const status = error.statusCode ?? 400;
      const apiError =
        status >= 500
          ? new ApiError('api_error', error.message)
          : new ApiError('invalid_request_error', error.message, status);
      void (reply as FastifyReply).header('request-id', request.id).status(apiError.status).send(apiError.toBody());
    },
  });
  const queries = new SessionQueries(options.temporal);
  // The services see the store as the request's workspace does; `options.store` itself is unscoped.
  const store = workspaceScopedStore(options.store);
  const skills = new SkillService(store, options.blobs);
  const agents = new AgentService(store, skills);
  const environments = new EnvironmentService(store);
  const files = new FileService(store, options.files, options.store);
  const vaults = new VaultService(store);
  const memoryStores = new MemoryStoreService(store);
  const credentials = new CredentialService(store, vaults, options.secretKey);
  const repositoryTokens = new RepositoryTokens(options.store.repositoryTokens, options.secretKey);
  const sessions: SessionService = new SessionService({
    ...options,
    client: options.temporal,
    queries,
    agents,
    environments,
    files,
    vaults,
    memoryStores,
    skills,
    repositoryTokens,
    deploymentSessions: {
      sessionsOf: (deploymentId: string, limit: number): Promise<string[]> =>
        deployments.sessionsOf(deploymentId, limit),
    },
  });
  const deployments: DeploymentService = new DeploymentService(store, {
    agents,
    environments,
    vaults,
    files,
    memoryStores,
    sessions,
    schedules: new DeploymentSchedules(options.temporal),
  });
  // Scheduled fires reach the server through the deployment Activity (see `deploymentActivities`).
  app.decorate('deployments', deployments);
  const reader = new SessionEventReader(queries, options.blobs);
  const liveDeltas = liveDeltaMetrics();
  const feeds = new SessionFeeds(reader, options.bus, undefined, liveDeltas.observe);

  const workspaceChecks = workspaceParameterChecks(options.store, (id, workspaceId) =>
    sessions.isForeign(id, workspaceId),
  );

  registerRequestTelemetry(app);
  // Every route registered from here on is listed in the OpenAPI document at /openapi.json.
  const servedRoutes = collectRoutes(app);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('request-id', request.id);
    request.principal = API_PRINCIPAL;
    if (request.url === '/health' || request.url === '/metrics' || request.url === '/openapi.json') return;
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
    // A path naming another workspace's resource is a 404, before the body is read or validated.
    await requireOwnWorkspaceParameters(request.params, principal.workspaceId, workspaceChecks);
  });
  // Everything a handler awaits runs in its key's workspace (the scope exists from the first preHandler on).
  app.addHook('preHandler', (request, _reply, done) => {
    const scope = currentRequestScope();
    if (scope !== undefined && request.principal !== null) scope.workspaceId = request.principal.workspaceId;
    done();
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

  // A JSON body is an object: a `null` one would otherwise read as an absent body (`{}`) and be accepted.
  app.addHook('preValidation', (request, _reply, done) => {
    done(request.body === null ? invalidField('body', 'expected a JSON object, got null') : undefined);
  });

  app.setErrorHandler((error, _request, reply) => {
    const apiError = toApiError(error);
    // A conflict does not go away by itself: the SDK, which retries 409 by default, is told not to.
    const retry = apiError.retry ?? (apiError.status === 409 ? false : undefined);
    if (retry !== undefined) void reply.header('x-should-retry', String(retry));
    void reply.status(apiError.status).send(apiError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const apiError = new ApiError('not_found_error', `No route ${request.method} ${request.url.split('?')[0] ?? ''}.`);
    void reply.status(404).send(apiError.toBody());
  });

  registerConsoleRoutes(app, options.console);
  // The routes live in one scope whose rate limits (when configured) are registered before them, so they apply.
  void app.register(async (api) => {
    await registerRateLimits(api, options.rateLimits ?? NO_RATE_LIMITS, givenApiKey);
    registerHealthRoute(api, options.healthChecks);
    registerMetrics(
      api,
      options.temporal,
      [liveDeltas.registry, ...(options.metricsRegistries ?? [])],
      options.metricsPages,
    );
    registerOpenApiRoute(api, servedRoutes);
    registerSessionRoutes(api, sessions);
    const threads = new SessionThreadService(sessions, queries, options.temporal);
    registerSessionEventRoutes(api, sessions, reader, feeds, threads);
    registerSessionThreadRoutes(api, threads, { sessions, reader, feeds });
    registerSessionResourceRoutes(
      api,
      new SessionResourceService(options.temporal, sessions, files, repositoryTokens, options.repositoryHosts ?? []),
    );
    registerAgentRoutes(api, agents);
    registerEnvironmentRoutes(api, environments);
    registerWorkRoutes(api, new WorkService(store.work, environments));
    registerFileRoutes(api, files);
    registerVaultRoutes(api, vaults);
    registerCredentialRoutes(api, credentials);
    registerCredentialValidationRoutes(api, new CredentialValidationService(store, options.secretKey));
    registerMemoryStoreRoutes(api, memoryStores, new MemoryService(store));
    registerSkillRoutes(api, skills);
    registerDeploymentRoutes(api, deployments);
    registerDeploymentRunRoutes(api, deployments);
    registerDreamRoutes(
      api,
      new DreamService({
        store,
        client: options.temporal,
        queries,
        sessions,
        reader,
        defaultAgent: options.agent,
      }),
    );
    // The Admin API works on the unscoped store: it manages every workspace and key.
    registerAdminRoutes(api, new AdminService(options.store));
  });
  app.addHook('onReady', async () => {
    await files.removeLeftovers().catch((error: unknown) => console.error('keel server: files folder sweep', error));
  });
  return app;
}

const NO_RATE_LIMITS: RateLimits = { createPerMinute: 0, readPerMinute: 0 };

/** The principal of /health and /metrics, which need no key (and of every request until it is authenticated). */
const API_PRINCIPAL: Principal = { kind: 'api', workspaceId: DEFAULT_WORKSPACE_ID, admin: false };

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request acts as, set by the authentication hook before any route runs (see `principalOf`). */
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** The server's deployments, which the deployment Activity worker runs scheduled fires through. */
    deployments: DeploymentService;
  }
}

/** The API key a request carries: `x-api-key`, else `Authorization: Bearer`, else empty. */
function givenApiKey(request: FastifyRequest): string {
  const bearer = request.headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header : (bearer ?? '');
}
