import type {
  MemoryActor,
  MemoryVersionOperation,
  MemoryWrite,
  MemoryWriteContext,
  SandboxMemoryMount,
  StoredMemory,
  StoredMemoryVersion,
} from '../../common/memory';
import type { PageRequest, StoredPage, WorkspaceListRequest } from './control-plane-store';

/** A memory store as stored: a named set of path-addressed memories that sessions mount. */
export interface StoredMemoryStore {
  id: string;
  /** The workspace the record belongs to (see common/workspace.ts); a key of another workspace never sees it. */
  workspaceId: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  name: string;
  description: string;
  metadata: Record<string, string>;
}

/** Filters of the memory store list. */
export interface MemoryStoreListRequest extends WorkspaceListRequest {
  includeArchived: boolean;
  /** RFC 3339 times in the store's normal form (`Date.toISOString()`), inclusive. */
  createdAtOrAfter: string | null;
  createdAtOrBefore: string | null;
}

/** Filters of a store's version list (newest first). */
export interface MemoryVersionListRequest extends PageRequest {
  memoryId: string | null;
  operation: MemoryVersionOperation | null;
  /** Versions written by this session (`session_actor`) or with this API key (`api_actor`). */
  sessionId: string | null;
  apiKeyId: string | null;
  createdAtOrAfter: string | null;
  createdAtOrBefore: string | null;
}

/** A memory without its content, as listings read it. */
export type StoredMemorySummary = Omit<StoredMemory, 'content'>;

/** What a memory write did. */
export type MemoryWriteOutcome =
  | { kind: 'store_not_found' }
  | { kind: 'store_archived' }
  | { kind: 'memory_not_found' }
  | { kind: 'precondition_failed' }
  /** Another memory has the path, or a path that is its ancestor or descendant. */
  | { kind: 'path_conflict'; memoryId: string; path: string }
  /** Written (or, with `version` `null`, nothing to change); `memory` is `null` after a delete. */
  | { kind: 'done'; memory: StoredMemory | null; version: StoredMemoryVersion | null };

/** What redacting a version did. */
export type MemoryRedactOutcome =
  { kind: 'store_not_found' } | { kind: 'version_not_found' } | { kind: 'redacted'; version: StoredMemoryVersion };

/**
 * Memory stores, their memories and the memories' versions. Every memory call names its store, so an id under
 * another store is unknown; deleting a store deletes its memories and versions. Each write runs in one write
 * transaction with its checks (store exists and is not archived, precondition, path overlap), so concurrent writers
 * never both win.
 */
export interface MemoryStoreRepository {
  insertStore(store: StoredMemoryStore): Promise<void>;
  getStore(id: string): Promise<StoredMemoryStore | null>;
  listStores(request: MemoryStoreListRequest): Promise<StoredPage<StoredMemoryStore>>;
  /** Runs `change` on the stored record and writes what it returns, atomically (it may throw to refuse). */
  updateStore(id: string, change: (current: StoredMemoryStore) => StoredMemoryStore): Promise<StoredMemoryStore | null>;
  /** Removes the store with its memories and versions; resolves to whether it existed. */
  deleteStore(id: string): Promise<boolean>;
  /** The memory, with its content, or `null`. */
  getMemory(storeId: string, memoryId: string): Promise<StoredMemory | null>;
  /** The store's memories under `pathPrefix` (every one for `/`), without content, in path order. */
  listMemories(storeId: string, pathPrefix: string): Promise<StoredMemorySummary[]>;
  /** Applies one write (see `decideMemoryWrite`); an archived store refuses creates and updates. */
  writeMemory(storeId: string, write: MemoryWrite, context: MemoryWriteContext): Promise<MemoryWriteOutcome>;
  getVersion(storeId: string, versionId: string): Promise<StoredMemoryVersion | null>;
  listVersions(storeId: string, request: MemoryVersionListRequest): Promise<StoredPage<StoredMemoryVersion>>;
  /** Clears a version's path and content (its operation, memory and author stay); redacting again changes nothing. */
  redactVersion(
    storeId: string,
    versionId: string,
    at: string,
    actor: MemoryActor | null,
  ): Promise<MemoryRedactOutcome>;
  /**
   * Records the stores a new session mounts, where and how (for `sessions.list?memory_store_id=`, and for the worker,
   * which mounts them into the session's sandbox).
   */
  attachToSession(sessionId: string, mounts: readonly SandboxMemoryMount[], at: string): Promise<void>;
  /** The sessions that mount the store, most recent first (at most `limit`). */
  sessionsOf(storeId: string, limit: number): Promise<string[]>;
}
