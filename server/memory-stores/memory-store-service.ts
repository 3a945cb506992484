import type { BetaManagedAgentsMemoryStore } from '@anthropic-ai/sdk/resources/beta/memory-stores/memory-stores';
import type { BetaManagedAgentsDeletedMemoryStore } from '@anthropic-ai/sdk/resources/beta/memory-stores/memory-stores';
import { memoryMountDirectory, MEMORY_MOUNT_ROOT } from '../../common/memory';
import type { SandboxMemoryMount } from '../../common/memory';
import { ApiError, invalidField } from '../api-error';
import { toPageResponse } from '../page-query';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import { newResourceId, requireResourceId } from '../resource-ids';
import { checkedResourceMetadata, patchedResourceMetadata } from '../resource-metadata';
import type { ControlPlaneStore } from '../store/control-plane-store';
import type { MemoryStoreListRequest, StoredMemoryStore } from '../store/memory-store-repository';
import { memoryStoreArchived, memoryStoreNotFound } from './memory-errors';
import type { CreateMemoryStoreBody, UpdateMemoryStoreBody } from './memory-store-request-schemas';
import { toMemoryStoreView } from './memory-store-view';

/** The most memory stores one session may mount. */
export const MAX_SESSION_MEMORY_STORES = 8;

/** The most characters of a mount's `instructions`. */
export const MAX_MEMORY_INSTRUCTIONS = 4_096;

/** A memory store as a session mounts it: what `sessions.create` checked and snapshotted. */
export interface SessionMemoryStore {
  memoryStoreId: string;
  name: string;
  description: string;
  mountPath: string;
  access: 'read_write' | 'read_only';
  instructions: string | null;
}

/**
 * Memory store operations on the control-plane store (`client.beta.memoryStores`). An archived store stays readable
 * and deletable (its memories too, and its versions redactable) but its name, description and memories cannot change
 * and no new session mounts it.
 */
export class MemoryStoreService {
  constructor(private readonly store: ControlPlaneStore) {}

  /** Creates a store. */
  async create(body: CreateMemoryStoreBody): Promise<BetaManagedAgentsMemoryStore> {
    const now = new Date().toISOString();
    const record: StoredMemoryStore = {
      id: newResourceId('memory_store'),
      // The workspace-scoped store the server gives this service puts the record in the request's workspace.
      workspaceId: DEFAULT_WORKSPACE_ID,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
      name: body.name,
      description: body.description ?? '',
      metadata: checkedResourceMetadata(body.metadata ?? {}),
    };
    await this.store.memoryStores.insertStore(record);
    return toMemoryStoreView(record);
  }

  /** The store, or a 404 (a 400 for a malformed id). */
  async retrieve(storeId: string): Promise<BetaManagedAgentsMemoryStore> {
    return toMemoryStoreView(await this.find(storeId));
  }

  /** Applies an update (name, description, a metadata patch); an archived store refuses it with 409. */
  async update(storeId: string, body: UpdateMemoryStoreBody): Promise<BetaManagedAgentsMemoryStore> {
    requireResourceId('memory_store', storeId, 'memory_store_id');
    const now = new Date().toISOString();
    const updated = await this.store.memoryStores.updateStore(storeId, (current) => {
      if (current.archivedAt !== null) throw memoryStoreArchived(storeId, 'it cannot be updated');
      const next: StoredMemoryStore = {
        ...current,
        name: body.name ?? current.name,
        description: body.description ?? current.description,
        metadata: patchedResourceMetadata(current.metadata, body.metadata),
      };
      return JSON.stringify(next) === JSON.stringify(current) ? current : { ...next, updatedAt: now };
    });
    if (updated === null) throw memoryStoreNotFound(storeId);
    return toMemoryStoreView(updated);
  }

  /** Stores, newest first, without archived ones unless asked. */
  async list(
    request: MemoryStoreListRequest,
  ): Promise<{ data: BetaManagedAgentsMemoryStore[]; next_page: string | null }> {
    return toPageResponse(await this.store.memoryStores.listStores(request), toMemoryStoreView);
  }

  /** Deletes the store, archived or not, with every memory and version in it. */
  async delete(storeId: string): Promise<BetaManagedAgentsDeletedMemoryStore> {
    requireResourceId('memory_store', storeId, 'memory_store_id');
    if (!(await this.store.memoryStores.deleteStore(storeId))) throw memoryStoreNotFound(storeId);
    return { id: storeId, type: 'memory_store_deleted' };
  }

  /** Archives the store (for good): it stays readable, leaves the default list, and no new session mounts it. */
  async archive(storeId: string): Promise<BetaManagedAgentsMemoryStore> {
    requireResourceId('memory_store', storeId, 'memory_store_id');
    const now = new Date().toISOString();
    const archived = await this.store.memoryStores.updateStore(storeId, (current) =>
      current.archivedAt === null ? { ...current, archivedAt: now, updatedAt: now } : current,
    );
    if (archived === null) throw memoryStoreNotFound(storeId);
    return toMemoryStoreView(archived);
  }

  /** The stored store, or a 404 (a 400 naming `field` for a malformed id). */
  async find(storeId: string, field = 'memory_store_id'): Promise<StoredMemoryStore> {
    requireResourceId('memory_store', storeId, field);
    const found = await this.store.memoryStores.getStore(storeId);
    if (found === null) throw memoryStoreNotFound(storeId);
    return found;
  }

  /** Records the stores a new session mounts (see `MemoryStoreRepository.attachToSession`). */
  async attachToSession(sessionId: string, mounts: readonly SandboxMemoryMount[], at: string): Promise<void> {
    await this.store.memoryStores.attachToSession(sessionId, mounts, at);
  }

  /** The sessions that mount the store, most recent first, at most `limit` (none for an unknown or foreign store). */
  async sessionsOf(storeId: string, limit: number): Promise<string[]> {
    return this.store.memoryStores.sessionsOf(storeId, limit);
  }

  /**
   * Checks the `memory_store` resources of a new session (`fields[i]` names each in errors): at most 8, each store
   * once, existing (404) and not archived (400), `instructions` at most 4,096 characters; and snapshots each store's
   * name and description with its mount path, `/mnt/memory/<slug of the name>` (a slug another store of the session
   * already has gets `-2`, `-3`…).
   */
  async forSession(
    requested: ReadonlyArray<{
      field: string;
      memory_store_id: string;
      access?: 'read_write' | 'read_only' | null | undefined;
      instructions?: string | null | undefined;
    }>,
  ): Promise<SessionMemoryStore[]> {
    if (requested.length > MAX_SESSION_MEMORY_STORES) {
      throw invalidField('resources', `a session mounts at most ${MAX_SESSION_MEMORY_STORES} memory stores`);
    }
    const mounts: SessionMemoryStore[] = [];
    for (const entry of requested) {
      const field = `${entry.field}.memory_store_id`;
      requireResourceId('memory_store', entry.memory_store_id, field);
      if (mounts.some((mount) => mount.memoryStoreId === entry.memory_store_id)) {
        throw invalidField(field, `${entry.memory_store_id} is listed twice`);
      }
      const found = await this.store.memoryStores.getStore(entry.memory_store_id);
      if (found === null) throw new ApiError('not_found_error', `${field}: no memory store ${entry.memory_store_id}.`);
      if (found.archivedAt !== null) {
        throw invalidField(field, `memory store ${entry.memory_store_id} is archived and cannot be attached`);
      }
      if ((entry.instructions ?? '').length > MAX_MEMORY_INSTRUCTIONS) {
        throw invalidField(`${entry.field}.instructions`, `must be at most ${MAX_MEMORY_INSTRUCTIONS} characters`);
      }
      const base = `${MEMORY_MOUNT_ROOT}/${memoryMountDirectory(found.name)}`;
      let mountPath = base;
      for (let suffix = 2; mounts.some((mount) => mount.mountPath === mountPath); suffix += 1) {
        mountPath = `${base}-${suffix}`;
      }
      mounts.push({
        memoryStoreId: found.id,
        name: found.name,
        description: found.description,
        mountPath,
        access: entry.access ?? 'read_write',
        instructions: entry.instructions ?? null,
      });
    }
    return mounts;
  }
}
