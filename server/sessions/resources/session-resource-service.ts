import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type {
  SessionFileResourceRecord,
  SessionRepositoryResourceRecord,
  SessionResourceChange,
  SessionResourceRecord,
} from '../../../common/session';
import type { sessionWorkflow } from '../../../workflows';
import { sessionResourcesUpdate } from '../../../workflows/messages';
import { ApiError, invalidField } from '../../api-error';
import type { FileService } from '../../files/file-service';
import { newRepositoryResource, newResourceId } from './repository-resource';
import type { RepositoryTokens } from './repository-tokens';
import type { AddResourceRequest } from './session-resource-schemas';
import type { SessionService } from '../session-service';
import { isUnconfirmedUpdate, updateWithDeadline } from '../update-with-deadline';

/** The most resources one session may have. */
export const MAX_SESSION_RESOURCES = 100;

/**
 * A session's resources (`sessions.resources`): `file` and `github_repository` resources are added and deleted while
 * the session lives, and the Workflow keeps the list (so a change is ordered with the session's turns, and survives
 * continue-as-new). The sandbox sees a change at its next tool call: its container is replaced with the new file
 * mounts (its workspace volume kept), and an added repository is cloned into the workspace. A repository's token is
 * sealed into the store before the Workflow hears of the resource; the Workflow only ever holds its id.
 * `memory_store` resources are attached when the session is created and stay (adding or deleting one is a 400).
 */
export class SessionResourceService {
  constructor(
    private readonly client: Client,
    private readonly sessions: SessionService,
    private readonly files: FileService,
    private readonly tokens: RepositoryTokens,
    /** The repository hosts besides github.com (`KEEL_REPOSITORY_HOSTS`). */
    private readonly repositoryHosts: readonly string[],
  ) {}

  /**
   * Adds a resource: a `file` (the file must exist; the mount path defaults to `/mnt/session/uploads/<file_id>`) or a
   * `github_repository` (cloned before the next sandbox tool call; the mount path defaults to `/workspace/<name>`).
   */
  async add(sessionId: string, request: AddResourceRequest): Promise<SessionResourceRecord> {
    const resources = await this.openResources(sessionId);
    if (resources.length >= MAX_SESSION_RESOURCES) {
      throw invalidField('session_id', `session ${sessionId} has ${MAX_SESSION_RESOURCES} resources, the most it may`);
    }
    const now = new Date().toISOString();
    if (request.type === 'github_repository') return this.addRepository(sessionId, request, now);
    await this.files.retrieve(request.file_id);
    const resource: SessionFileResourceRecord = {
      id: newResourceId(),
      type: 'file',
      file_id: request.file_id,
      mount_path: request.mount_path ?? `/mnt/session/uploads/${request.file_id}`,
      created_at: now,
      updated_at: now,
    };
    await this.change(sessionId, { op: 'add', resource }, 'mount_path');
    return resource;
  }

  /** Adds a repository: its token (if any) is stored first, and forgotten again when the Workflow refuses the add. */
  private async addRepository(
    sessionId: string,
    request: Extract<AddResourceRequest, { type: 'github_repository' }>,
    now: string,
  ): Promise<SessionRepositoryResourceRecord> {
    const resource = newRepositoryResource(request, this.repositoryHosts, '', now);
    const token = request.authorization_token;
    if (token !== undefined) await this.tokens.put(sessionId, resource.id, token);
    try {
      await this.change(sessionId, { op: 'add', resource }, 'mount_path');
    } catch (error) {
      // A change no worker took in time may still apply: its token stays for it.
      if (token !== undefined && !isUnconfirmedUpdate(error)) await this.tokens.delete(sessionId, resource.id);
      throw error;
    }
    return resource;
  }

  /** The session's resources, in the order they were added, as a page. */
  async list(
    sessionId: string,
    limit: number,
    page: string | null,
  ): Promise<{ data: SessionResourceRecord[]; next_page: string | null }> {
    const resources = (await this.sessions.get(sessionId)).resources;
    const start = page === null || page === '' ? 0 : Number(page);
    const data = resources.slice(start, start + limit);
    return { data, next_page: start + limit < resources.length ? String(start + limit) : null };
  }

  /** One resource of the session, or a 404. */
  async retrieve(sessionId: string, resourceId: string): Promise<SessionResourceRecord> {
    const resource = (await this.sessions.get(sessionId)).resources.find((candidate) => candidate.id === resourceId);
    if (resource === undefined) throw notFound(sessionId, resourceId);
    return resource;
  }

  /**
   * Deletes a resource: a file stays in the Files API and the sandbox stops mounting it at its next tool call; a
   * repository's token is forgotten, and its clone stays in the workspace (the agent's files are never removed).
   */
  async delete(sessionId: string, resourceId: string): Promise<{ id: string; type: 'session_resource_deleted' }> {
    const resources = await this.openResources(sessionId);
    const resource = resources.find((candidate) => candidate.id === resourceId);
    if (resource === undefined) throw notFound(sessionId, resourceId);
    if (resource.type === 'memory_store') {
      throw invalidField(
        'resource_id',
        `${resourceId} is a memory_store resource: memory stores stay attached for the whole session`,
      );
    }
    await this.change(sessionId, { op: 'delete', resourceId }, 'resource_id');
    if (resource.type === 'github_repository') await this.tokens.delete(sessionId, resourceId);
    return { id: resourceId, type: 'session_resource_deleted' };
  }

  /**
   * `resources.update`: rotates a `github_repository` resource's token (sealed and stored, then `updated_at` bumped by
   * the Workflow, which clones again at the next sandbox tool call when the last clone failed); a `file` resource has
   * nothing to update (400).
   */
  async update(sessionId: string, resourceId: string, token: string): Promise<SessionResourceRecord> {
    const resource = (await this.openResources(sessionId)).find((candidate) => candidate.id === resourceId);
    if (resource === undefined) throw notFound(sessionId, resourceId);
    if (resource.type !== 'github_repository') {
      throw invalidField(
        'authorization_token',
        `${resourceId} is a ${resource.type} resource, which has no authorization_token: only github_repository ` +
          'resources can be updated',
      );
    }
    await this.tokens.put(sessionId, resourceId, token);
    const updatedAt = new Date().toISOString();
    const after = await this.change(sessionId, { op: 'rotate', resourceId, updatedAt }, 'resource_id');
    return after.find((candidate) => candidate.id === resourceId) ?? { ...resource, updated_at: updatedAt };
  }

  /** The resources of a session that accepts changes: 404 unknown, 409 ended or archived. */
  private async openResources(sessionId: string): Promise<SessionResourceRecord[]> {
    const session = await this.sessions.get(sessionId);
    if (session.status === 'terminated') {
      throw new ApiError('conflict_error', `Session ${sessionId} has ended; its resources cannot change.`);
    }
    if (session.archived_at !== null) {
      throw new ApiError('conflict_error', `Session ${sessionId} is archived; its resources cannot change.`);
    }
    return session.resources;
  }

  private async change(
    sessionId: string,
    change: SessionResourceChange,
    field: string,
  ): Promise<SessionResourceRecord[]> {
    try {
      return await updateWithDeadline(this.client, `the resource change of session ${sessionId}`, () =>
        this.client.workflow
          .getHandle<typeof sessionWorkflow>(sessionId)
          .executeUpdate(sessionResourcesUpdate, { args: [change] }),
      );
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause instanceof Error ? error.cause.message : error.message;
        throw invalidField(field, cause);
      }
      throw error;
    }
  }
}

function notFound(sessionId: string, resourceId: string): ApiError {
  return new ApiError('not_found_error', `Session ${sessionId} has no resource ${resourceId}.`);
}
