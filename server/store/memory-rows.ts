import type { MemoryActor, StoredMemoryVersion } from '../../common/memory';
import type { MemoryRow } from '../../common/memory-rows';
import type { StoredMemoryStore, StoredMemorySummary } from './memory-store-repository';

/** A row of `memory_stores` (the sequence is a number in SQLite, text in PostgreSQL). */
export interface MemoryStoreRow {
  sequence: number | string;
  id: string;
  workspace_id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  name: string;
  description: string;
  metadata: string;
}

/** A row of `memory_versions`. */
export interface MemoryVersionRow {
  sequence: number | string;
  id: string;
  memory_store_id: string;
  memory_id: string;
  operation: StoredMemoryVersion['operation'];
  path: string | null;
  content: string | null;
  content_sha256: string | null;
  content_size_bytes: number | string | null;
  created_at: string;
  created_by: string | null;
  redacted_at: string | null;
  redacted_by: string | null;
}

/** The columns of a memory without its content. */
export const MEMORY_SUMMARY_COLUMNS =
  'id, memory_store_id, path, content_sha256, content_size_bytes, memory_version_id, created_at, updated_at';

/** A memory store read from its row. */
export function toStoredMemoryStore(row: MemoryStoreRow): StoredMemoryStore {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: row.archived_at,
    name: row.name,
    description: row.description,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
  };
}

/** A memory without content read from its row. */
export function toMemorySummary(row: MemoryRow): StoredMemorySummary {
  return {
    id: row.id,
    memoryStoreId: row.memory_store_id,
    path: row.path,
    contentSha256: row.content_sha256,
    contentSizeBytes: Number(row.content_size_bytes),
    memoryVersionId: row.memory_version_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A version read from its row. */
export function toStoredMemoryVersion(row: MemoryVersionRow): StoredMemoryVersion {
  return {
    id: row.id,
    memoryStoreId: row.memory_store_id,
    memoryId: row.memory_id,
    operation: row.operation,
    path: row.path,
    content: row.content,
    contentSha256: row.content_sha256,
    contentSizeBytes: row.content_size_bytes === null ? null : Number(row.content_size_bytes),
    createdAt: row.created_at,
    createdBy: row.created_by === null ? null : (JSON.parse(row.created_by) as MemoryActor),
    redactedAt: row.redacted_at,
    redactedBy: row.redacted_by === null ? null : (JSON.parse(row.redacted_by) as MemoryActor),
  };
}

export function byPath(left: { path: string }, right: { path: string }): number {
  return left.path < right.path ? -1 : left.path > right.path ? 1 : 0;
}
