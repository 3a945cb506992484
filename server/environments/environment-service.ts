import type {
  BetaEnvironment,
  BetaEnvironmentDeleteResponse,
} from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { ApiError } from '../api-error';
import { ApiErrorWithCode } from '../api-error-with-code';
import { newEnvironmentDefinition, updatedEnvironmentDefinition } from './environment-definition';
import type { CreateEnvironmentBody, UpdateEnvironmentBody } from './environment-request-schemas';
import { toEnvironmentView } from './environment-view';
import { toPageResponse } from '../page-query';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import { newResourceId, requireResourceId } from '../resource-ids';
import type { ControlPlaneStore, EnvironmentListRequest, StoredEnvironment } from '../store/control-plane-store';

/** A page of environments in the SDK's `PageCursor` shape. */
export interface EnvironmentPage {
  data: BetaEnvironment[];
  next_page: string | null;
}

/**
 * Environment operations on the control-plane store, shared by the routes and by session creation. An environment
 * says where a session's sandbox may connect and what it installs; archived, it stays readable but cannot change or
 * start sessions.
 */
export class EnvironmentService {
  constructor(private readonly store: ControlPlaneStore) {}

  /** Creates an environment. */
  async create(body: CreateEnvironmentBody): Promise<BetaEnvironment> {
    const now = new Date().toISOString();
    const environment: StoredEnvironment = {
      id: newResourceId('environment'),
      // The workspace-scoped store the server gives this service puts the record in the request's workspace.
      workspaceId: DEFAULT_WORKSPACE_ID,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
      definition: newEnvironmentDefinition(body),
    };
    await this.store.environments.insert(environment);
    return toEnvironmentView(environment);
  }

  /** The environment, or a 404. */
  async retrieve(environmentId: string, field = 'environment_id'): Promise<BetaEnvironment> {
    return toEnvironmentView(await this.find(environmentId, field));
  }

  /** Applies an update; an archived environment refuses it with the SDK's `environment_archived` (400). */
  async update(environmentId: string, body: UpdateEnvironmentBody): Promise<BetaEnvironment> {
    requireResourceId('environment', environmentId, 'environment_id');
    const now = new Date().toISOString();
    const updated = await this.store.environments.update(environmentId, (current) => {
      if (current.archivedAt !== null) {
        throw new ApiErrorWithCode(
          'invalid_request_error',
          'environment_archived',
          `Environment ${environmentId} is archived; it cannot be updated.`,
        );
      }
      const definition = updatedEnvironmentDefinition(current.definition, body);
      const changed = JSON.stringify(definition) !== JSON.stringify(current.definition);
      return changed ? { ...current, definition, updatedAt: now } : current;
    });
    if (updated === null) throw notFound(environmentId);
    return toEnvironmentView(updated);
  }

  /** Environments, newest first, without archived ones unless asked. */
  async list(request: EnvironmentListRequest): Promise<EnvironmentPage> {
    return toPageResponse(await this.store.environments.list(request), toEnvironmentView);
  }

  /** Deletes the environment (archived or not). */
  async delete(environmentId: string): Promise<BetaEnvironmentDeleteResponse> {
    requireResourceId('environment', environmentId, 'environment_id');
    if (!(await this.store.environments.delete(environmentId))) throw notFound(environmentId);
    return { id: environmentId, type: 'environment_deleted' };
  }

  /** Archives the environment: it stays readable, leaves the default list and starts no new session. Idempotent. */
  async archive(environmentId: string): Promise<BetaEnvironment> {
    requireResourceId('environment', environmentId, 'environment_id');
    const now = new Date().toISOString();
    const archived = await this.store.environments.update(environmentId, (current) =>
      current.archivedAt === null ? { ...current, archivedAt: now, updatedAt: now } : current,
    );
    if (archived === null) throw notFound(environmentId);
    return toEnvironmentView(archived);
  }

  /**
   * The environment a new session runs in: 400 for a malformed id (naming `field`), 404 for an unknown one, 409 for an
   * archived one.
   */
  async forSession(environmentId: string, field = 'environment_id'): Promise<BetaEnvironment> {
    const environment = await this.find(environmentId, field);
    if (environment.archivedAt !== null) {
      throw new ApiError('conflict_error', `Environment ${environmentId} is archived; it cannot start new sessions.`);
    }
    return toEnvironmentView(environment);
  }

  private async find(environmentId: string, field: string): Promise<StoredEnvironment> {
    requireResourceId('environment', environmentId, field);
    const environment = await this.store.environments.get(environmentId);
    if (environment === null) throw notFound(environmentId);
    return environment;
  }
}

function notFound(environmentId: string): ApiError {
  return new ApiError('not_found_error', `No environment ${environmentId}.`);
}
