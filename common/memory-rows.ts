import type { StoredMemory, StoredMemoryVersion } from './memory';

// The rows of the memory tables as both sides write them: the server's repositories and the worker's sandbox sync
// (which may import only common/). Migration 9 defines the tables: change these only with it.

/** A row of `memories`, content included or not. */
export interface MemoryRow {
  id: string;
  memory_store_id: string;
  path: string;
  content?: string;
  content_sha256: string;
  content_size_bytes: number | string;
  memory_version_id: string;
  created_at: string;
  updated_at: string;
}

/** A memory read from its row (which must hold the content). */
export function toStoredMemory(row: MemoryRow): StoredMemory {
  return {
    id: row.id,
    memoryStoreId: row.memory_store_id,
    path: row.path,
    content: row.content ?? '',
    contentSha256: row.content_sha256,
    contentSizeBytes: Number(row.content_size_bytes),
    memoryVersionId: row.memory_version_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The column values of a version row, in the order of `MEMORY_VERSION_COLUMNS`. */
export function memoryVersionValues(version: StoredMemoryVersion): unknown[] {
  return [
    version.id,
    version.memoryStoreId,
    version.memoryId,
    version.operation,
    version.path,
    version.content,
    version.contentSha256,
    version.contentSizeBytes,
    version.createdAt,
    version.createdBy === null ? null : JSON.stringify(version.createdBy),
    version.createdBy?.type === 'session_actor' ? version.createdBy.session_id : null,
    version.createdBy?.type === 'api_actor' ? version.createdBy.api_key_id : null,
  ];
}

/** The columns a new version row fills, in the order of `memoryVersionValues`. */
export const MEMORY_VERSION_COLUMNS =
  'id, memory_store_id, memory_id, operation, path, content, content_sha256, content_size_bytes, created_at, ' +
  'created_by, session_id, api_key_id';

/** The column values of a memory row, in the order of `MEMORY_COLUMNS`. */
export function memoryValues(memory: StoredMemory): unknown[] {
  return [
    memory.id,
    memory.memoryStoreId,
    memory.path,
    memory.content,
    memory.contentSha256,
    memory.contentSizeBytes,
    memory.memoryVersionId,
    memory.createdAt,
    memory.updatedAt,
  ];
}

/** The columns of a memory row, in the order of `memoryValues`. */
export const MEMORY_COLUMNS =
  'id, memory_store_id, path, content, content_sha256, content_size_bytes, memory_version_id, created_at, updated_at';

/** Orders memories by path, code point by code point, the same way on both databases. */
