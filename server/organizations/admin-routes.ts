import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../api-keys';
import { withContract } from '../openapi/route-contract';
import { parseOrThrow } from '../validation';
import {
  apiKeyListQuery,
  createApiKeyBody,
  createWorkspaceBody,
  updateApiKeyBody,
  updateWorkspaceBody,
  workspaceListQuery,
} from './admin-request-schemas';
import type { AdminService } from './admin-service';

type WorkspaceParams = { Params: { workspaceId: string } };
type ApiKeyParams = { Params: { apiKeyId: string } };

/**
 * The Admin API, at the hosted paths: workspaces (create, retrieve, update, list, archive) and API keys (list,
 * retrieve, update, and Keel's create). Only an admin key may call them (403 `permission_error` before the body is
 * read); they are not workspace-scoped.
 */
export function registerAdminRoutes(app: FastifyInstance, admin: AdminService): void {
  void app.register((routes, _options, registered) => {
    routes.addHook('onRequest', (request, _reply, done) => {
      try {
        requireAdmin(request);
        done();
      } catch (error) {
        done(error as Error);
      }
    });

    routes.post(
      '/v1/organizations/workspaces',
      withContract({ summary: 'Create a workspace (admin key).', body: createWorkspaceBody }),
      async (request) => admin.createWorkspace(parseOrThrow(createWorkspaceBody, request.body ?? {}, '')),
    );

    routes.get(
      '/v1/organizations/workspaces',
      withContract({ summary: 'List workspaces (admin key).', query: workspaceListQuery }),
      async (request) => admin.listWorkspaces(parseOrThrow(workspaceListQuery, request.query, '')),
    );

    routes.get<WorkspaceParams>(
      '/v1/organizations/workspaces/:workspaceId',
      withContract({ summary: 'Retrieve a workspace (admin key).' }),
      async (request) => admin.retrieveWorkspace(request.params.workspaceId),
    );

    routes.post<WorkspaceParams>(
      '/v1/organizations/workspaces/:workspaceId',
      withContract({ summary: 'Rename a workspace (admin key).', body: updateWorkspaceBody }),
      async (request) =>
        admin.updateWorkspace(request.params.workspaceId, parseOrThrow(updateWorkspaceBody, request.body ?? {}, '')),
    );

    routes.post<WorkspaceParams>(
      '/v1/organizations/workspaces/:workspaceId/archive',
      withContract({ summary: 'Archive a workspace and its keys (admin key).' }),
      async (request) => admin.archiveWorkspace(request.params.workspaceId),
    );

    routes.get(
      '/v1/organizations/api_keys',
      withContract({ summary: 'List API keys (admin key).', query: apiKeyListQuery }),
      async (request) => admin.listApiKeys(parseOrThrow(apiKeyListQuery, request.query, '')),
    );

    routes.post(
      '/v1/organizations/api_keys',
      withContract({
        summary: 'Create an API key, returned once with its secret `key` (admin key; a Keel extension).',
        body: createApiKeyBody,
      }),
      async (request) => admin.createApiKey(parseOrThrow(createApiKeyBody, request.body ?? {}, '')),
    );

    routes.get<ApiKeyParams>(
      '/v1/organizations/api_keys/:apiKeyId',
      withContract({ summary: 'Retrieve an API key (admin key).' }),
      async (request) => admin.retrieveApiKey(request.params.apiKeyId),
    );

    routes.post<ApiKeyParams>(
      '/v1/organizations/api_keys/:apiKeyId',
      withContract({ summary: 'Rename an API key or change its status (admin key).', body: updateApiKeyBody }),
      async (request) =>
        admin.updateApiKey(request.params.apiKeyId, parseOrThrow(updateApiKeyBody, request.body ?? {}, '')),
    );
    registered();
  });
}
