import { createHash, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import { ApiError, invalidField } from '../api-error';
import { apiKeySha256, newApiKey } from '../api-keys';
import type { ControlPlaneStore, StoredApiKey, StoredWorkspace } from '../store/control-plane-store';
import type {
  apiKeyListQuery,
  createApiKeyBody,
  createWorkspaceBody,
  updateApiKeyBody,
  updateWorkspaceBody,
  workspaceListQuery,
} from './admin-request-schemas';

/** A workspace as the Admin API answers it (`BetaWorkspace`, without the hosted data-residency settings). */
export interface WorkspaceView {
  type: 'workspace';
  id: string;
  name: string;
  created_at: string;
  archived_at: string | null;
  display_color: string;
}

/** An API key as the Admin API answers it (`BetaAPIKey`), never its secret; `admin` and `environment_id` are Keel's. */
export interface ApiKeyView {
  type: 'api_key';
  id: string;
  name: string;
  created_at: string;
  created_by: null;
  expires_at: null;
  partial_key_hint: null;
  principal: null;
  scope: { type: 'workspace'; workspace_id: string };
  workspace_id: string;
  status: StoredApiKey['status'];
  admin: boolean;
  environment_id: string | null;
}

/** A page of the Admin API (the SDK's `Page`: `data`, `has_more`, `first_id`, `last_id`). */
export interface IdPage<View> {
  data: View[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

/** The colors a workspace is shown in (the hosted Console's kind of palette), picked from its id. */
const DISPLAY_COLORS = ['#6C5BB9', '#3B82F6', '#10B981', '#F59E0B', '#EF4444', '#EC4899', '#14B8A6', '#8B5CF6'];

/**
 * The Admin API (`/v1/organizations/workspaces`, `/v1/organizations/api_keys`) over the unscoped control-plane store:
 * it manages every workspace and key, whatever the admin key's own workspace.
 */
export class AdminService {
  constructor(private readonly store: ControlPlaneStore) {}

  async createWorkspace(body: z.infer<typeof createWorkspaceBody>): Promise<WorkspaceView> {
    if ((await this.store.workspaces.findByName(body.name)) !== null) {
      throw new ApiError('conflict_error', `A workspace named ${body.name} exists already.`);
    }
    const workspace = await this.store.workspaces.ensure({
      id: `wrkspc_${randomBytes(12).toString('hex')}`,
      name: body.name,
      createdAt: new Date().toISOString(),
    });
    return toWorkspaceView(workspace);
  }

  async retrieveWorkspace(id: string): Promise<WorkspaceView> {
    return toWorkspaceView(await this.workspace(id));
  }

  async updateWorkspace(id: string, body: z.infer<typeof updateWorkspaceBody>): Promise<WorkspaceView> {
    const workspace = await this.workspace(id);
    if (workspace.name === body.name) return toWorkspaceView(workspace);
    if (id === DEFAULT_WORKSPACE_ID) throw invalidField('name', 'the default workspace keeps its name');
    if (workspace.archivedAt !== null) throw new ApiError('invalid_request_error', `Workspace ${id} is archived.`);
    if ((await this.store.workspaces.findByName(body.name)) !== null) {
      throw new ApiError('conflict_error', `A workspace named ${body.name} exists already.`);
    }
    const renamed = await this.store.workspaces.rename(id, body.name).catch(async (error: unknown) => {
      // Another rename or create took the name between the check above and this write (the name is unique).
      const holder = await this.store.workspaces.findByName(body.name);
      if (holder !== null && holder.id !== id) {
        throw new ApiError('conflict_error', `A workspace named ${body.name} exists already.`);
      }
      throw error;
    });
    return toWorkspaceView(this.found(renamed, id));
  }

  async archiveWorkspace(id: string): Promise<WorkspaceView> {
    await this.workspace(id);
    if (id === DEFAULT_WORKSPACE_ID) {
      throw new ApiError('invalid_request_error', 'The default workspace cannot be archived.');
    }
    return toWorkspaceView(this.found(await this.store.workspaces.archive(id, new Date().toISOString()), id));
  }

  async listWorkspaces(query: z.infer<typeof workspaceListQuery>): Promise<IdPage<WorkspaceView>> {
    const all = await this.store.workspaces.list();
    return idPage(
      all.filter((workspace) => query.include_archived || workspace.archivedAt === null).map(toWorkspaceView),
      query,
    );
  }

  /** Makes a key (a Keel extension): its view, with the secret `key`, which is shown this once and never stored. */
  async createApiKey(body: z.infer<typeof createApiKeyBody>): Promise<ApiKeyView & { key: string }> {
    const workspaceId = body.workspace_id ?? DEFAULT_WORKSPACE_ID;
    const workspace = await this.workspace(workspaceId);
    if (workspace.archivedAt !== null) throw invalidField('workspace_id', `workspace ${workspaceId} is archived`);
    const key = newApiKey();
    const id = `apikey_${randomBytes(8).toString('hex')}`;
    await this.store.apiKeys.insert({
      id,
      keySha256: apiKeySha256(key),
      name: body.name,
      createdAt: new Date().toISOString(),
      revokedAt: null,
      environmentId: null,
      workspaceId,
      admin: body.admin === true,
    });
    const stored = await this.store.apiKeys.get(id);
    if (stored === null) throw new Error(`API key ${id} vanished while it was created`);
    return { ...toApiKeyView(stored), key };
  }

  async retrieveApiKey(id: string): Promise<ApiKeyView> {
    return toApiKeyView(await this.apiKey(id));
  }

  async updateApiKey(id: string, body: z.infer<typeof updateApiKeyBody>): Promise<ApiKeyView> {
    const key = await this.apiKey(id);
    const name = body.name ?? undefined;
    const status = body.status ?? undefined;
    if ((name === undefined || name === key.name) && (status === undefined || status === key.status)) {
      return toApiKeyView(key);
    }
    if (key.status === 'archived') throw new ApiError('invalid_request_error', `API key ${id} is archived.`);
    if (status === 'active' && (await this.workspace(key.workspaceId)).archivedAt !== null) {
      throw invalidField('status', `the key's workspace ${key.workspaceId} is archived`);
    }
    const updated = await this.store.apiKeys.update(id, { name, status }, new Date().toISOString());
    if (updated === null) throw new ApiError('not_found_error', `No API key ${id}.`);
    return toApiKeyView(updated);
  }

  async listApiKeys(query: z.infer<typeof apiKeyListQuery>): Promise<IdPage<ApiKeyView>> {
    const all = await this.store.apiKeys.list();
    const keys = all.filter(
      (key) =>
        (query.status === undefined || key.status === query.status) &&
        (query.workspace_id === undefined || key.workspaceId === query.workspace_id),
    );
    return idPage(keys.map(toApiKeyView), query);
  }

  private async workspace(id: string): Promise<StoredWorkspace> {
    return this.found(await this.store.workspaces.get(id), id);
  }

  private found(workspace: StoredWorkspace | null, id: string): StoredWorkspace {
    if (workspace === null) throw new ApiError('not_found_error', `No workspace ${id}.`);
    return workspace;
  }

  private async apiKey(id: string): Promise<StoredApiKey> {
    const key = await this.store.apiKeys.get(id);
    if (key === null) throw new ApiError('not_found_error', `No API key ${id}.`);
    return key;
  }
}

/** One page of `items` (oldest first) after `after_id` or before `before_id`, at most `limit` long. */
export function idPage<View extends { id: string }>(
  items: View[],
  query: { limit: number; after_id?: string | undefined; before_id?: string | undefined },
): IdPage<View> {
  if (query.after_id !== undefined && query.before_id !== undefined) {
    throw new ApiError('invalid_request_error', 'Give after_id or before_id, not both.');
  }
  const indexOf = (field: string, id: string): number => {
    const index = items.findIndex((item) => item.id === id);
    if (index === -1) throw invalidField(field, `no ${id} in this listing`);
    return index;
  };
  let start = 0;
  let end = Math.min(items.length, query.limit);
  let hasMore = items.length > end;
  if (query.after_id !== undefined) {
    start = indexOf('after_id', query.after_id) + 1;
    end = Math.min(items.length, start + query.limit);
    hasMore = end < items.length;
  } else if (query.before_id !== undefined) {
    end = indexOf('before_id', query.before_id);
    start = Math.max(0, end - query.limit);
    hasMore = start > 0;
  }
  const data = items.slice(start, end);
  return { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

/** A workspace's API object. */
export function toWorkspaceView(workspace: StoredWorkspace): WorkspaceView {
  const hash = createHash('sha256').update(workspace.id).digest();
  return {
    type: 'workspace',
    id: workspace.id,
    name: workspace.name,
    created_at: workspace.createdAt,
    archived_at: workspace.archivedAt,
    display_color: DISPLAY_COLORS[(hash[0] ?? 0) % DISPLAY_COLORS.length] ?? '#6C5BB9',
  };
}

/** A key's API object. */
export function toApiKeyView(key: StoredApiKey): ApiKeyView {
  return {
    type: 'api_key',
    id: key.id,
    name: key.name,
    created_at: key.createdAt,
    created_by: null,
    expires_at: null,
    partial_key_hint: null,
    principal: null,
    scope: { type: 'workspace', workspace_id: key.workspaceId },
    workspace_id: key.workspaceId,
    status: key.status,
    admin: key.admin,
    environment_id: key.environmentId,
  };
}
