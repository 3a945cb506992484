import { randomBytes } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { SessionFileResourceRecord, SessionResourceChange } from '../common/session';
import type { sessionWorkflow } from '../workflows';
import { sessionResourcesUpdate } from '../workflows/messages';
import { ApiError, invalidField } from './api-error';
import type { FileService } from './file-service';
import type { SessionService } from './session-service';

/** The most resources one session may have. */
export const MAX_SESSION_RESOURCES = 100;

/**
 * A session's resources (`sessions.resources`): `file` resources are added and deleted while the session lives, and
 * the Workflow keeps the list (so a change is ordered with the session's turns, and survives continue-as-new). The
 * sandbox sees a change at its next tool call: its container is replaced with the new mounts, its workspace volume
 * kept. `github_repository` and `memory_store` resources are not served yet.
 */
export class SessionResourceService {
  constructor(
    private readonly client: Client,
    private readonly sessions: SessionService,
    private readonly files: FileService,
  ) {}

  /** Adds a `file` resource (the file must exist; the mount path defaults to `/mnt/session/uploads/<file_id>`). */
  async add(sessionId: string, fileId: string, mountPath: string | null): Promise<SessionFileResourceRecord> {
    const resources = await this.openResources(sessionId);
    if (resources.length >= MAX_SESSION_RESOURCES) {
      throw invalidField('session_id', `session ${sessionId} has ${MAX_SESSION_RESOURCES} resources, the most it may`);
    }
    await this.files.retrieve(fileId);
    const now = new Date().toISOString();
    const resource: SessionFileResourceRecord = {
      id: `sesrsc_${randomBytes(12).toString('hex')}`,
      type: 'file',
      file_id: fileId,
      mount_path: mountPath ?? `/mnt/session/uploads/${fileId}`,
      created_at: now,
      updated_at: now,
    };
    await this.change(sessionId, { op: 'add', resource }, 'mount_path');
    return resource;
  }

  /** The session's resources, in the order they were added, as a page. */
  async list(
    sessionId: string,
    limit: number,
    page: string | null,
  ): Promise<{ data: SessionFileResourceRecord[]; next_page: string | null }> {
    const resources = (await this.sessions.get(sessionId)).resources;
    const start = page === null || page === '' ? 0 : Number(page);
    const data = resources.slice(start, start + limit);
    return { data, next_page: start + limit < resources.length ? String(start + limit) : null };
  }

  /** One resource of the session, or a 404. */
  async retrieve(sessionId: string, resourceId: string): Promise<SessionFileResourceRecord> {
    const resource = (await this.sessions.get(sessionId)).resources.find((candidate) => candidate.id === resourceId);
    if (resource === undefined) throw notFound(sessionId, resourceId);
    return resource;
  }

  /** Deletes a resource: its file stays in the Files API; the sandbox stops mounting it at its next tool call. */
  async delete(sessionId: string, resourceId: string): Promise<{ id: string; type: 'session_resource_deleted' }> {
    const resources = await this.openResources(sessionId);
    if (!resources.some((resource) => resource.id === resourceId)) throw notFound(sessionId, resourceId);
    await this.change(sessionId, { op: 'delete', resourceId }, 'resource_id');
    return { id: resourceId, type: 'session_resource_deleted' };
  }

  /** `resources.update` changes a `github_repository` token; a `file` resource has nothing to update. */
  async update(sessionId: string, resourceId: string): Promise<never> {
    await this.retrieve(sessionId, resourceId);
    throw invalidField(
      'authorization_token',
      `${resourceId} is a file resource, which has no authorization_token: only github_repository resources (not ` +
        'served by Keel yet) can be updated',
    );
  }

  /** The resources of a session that accepts changes: 404 unknown, 409 ended or archived. */
  private async openResources(sessionId: string): Promise<SessionFileResourceRecord[]> {
    const session = await this.sessions.get(sessionId);
    if (session.status === 'terminated') {
      throw new ApiError('conflict_error', `Session ${sessionId} has ended; its resources cannot change.`);
    }
    if (session.archived_at !== null) {
      throw new ApiError('conflict_error', `Session ${sessionId} is archived; its resources cannot change.`);
    }
    return session.resources;
  }

  private async change(sessionId: string, change: SessionResourceChange, field: string): Promise<void> {
    try {
      await this.client.workflow
        .getHandle<typeof sessionWorkflow>(sessionId)
        .executeUpdate(sessionResourcesUpdate, { args: [change] });
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
