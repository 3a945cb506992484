import { randomBytes } from 'node:crypto';
import { decideMemoryWrite, planMemorySync } from '../../common/memory';
import type { MemoryFile, StoredMemory, StoredMemoryVersion } from '../../common/memory';

/** One row change of a sandbox sync: a memory inserted, updated or deleted (`memory` `null`), and its new version. */
export interface MemoryRowChange {
  kind: 'insert' | 'update' | 'delete';
  memory: StoredMemory | null;
  version: StoredMemoryVersion;
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A new id with the hosted prefix (`mem_`, `memver_`) and 24 random base62 characters, as the server makes them. */
export function newMemoryId(prefix: 'mem_' | 'memver_'): string {
  let suffix = '';
  while (suffix.length < 24) {
    for (const byte of randomBytes(48)) {
      if (byte < 248 && suffix.length < 24) suffix += ALPHABET.charAt(byte % ALPHABET.length);
    }
  }
  return `${prefix}${suffix}`;
}

/**
 * The row changes that make a store's memories (`stored`, with content) equal `files`, each a version written by the
 * session at `at`: deletions first, so a file that became a directory (or the reverse) never overlaps itself.
 */
export function sandboxSyncChanges(
  storeId: string,
  sessionId: string,
  stored: readonly StoredMemory[],
  files: readonly MemoryFile[],
  at: string,
  touched?: ReadonlySet<string>,
): MemoryRowChange[] {
  const byId = new Map(stored.map((memory) => [memory.id, memory]));
  const writes = planMemorySync(stored, files, () => newMemoryId('mem_'), touched);
  const ordered = [
    ...writes.filter((write) => write.op === 'delete'),
    ...writes.filter((write) => write.op !== 'delete'),
  ];
  const changes: MemoryRowChange[] = [];
  for (const write of ordered) {
    const current = write.op === 'create' ? null : (byId.get(write.memoryId) ?? null);
    const decision = decideMemoryWrite(storeId, current, write, {
      versionId: newMemoryId('memver_'),
      at,
      actor: { type: 'session_actor', session_id: sessionId },
    });
    if (decision.kind !== 'write') continue;
    const kind = write.op === 'create' ? 'insert' : decision.memory === null ? 'delete' : 'update';
    changes.push({ kind, memory: decision.memory, version: decision.version });
  }
  return changes;
}

/** The counts of a sync's changes, as `MemorySyncResult` reports them. */
export function syncCounts(changes: readonly MemoryRowChange[]): {
  created: number;
  modified: number;
  deleted: number;
} {
  const count = (kind: MemoryRowChange['kind']): number => changes.filter((change) => change.kind === kind).length;
  return { created: count('insert'), modified: count('update'), deleted: count('delete') };
}

/** The column values of a version row, for `INSERT INTO memory_versions (…VERSION_COLUMNS)`. */
export function versionRowValues(version: StoredMemoryVersion): unknown[] {
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
    JSON.stringify(version.createdBy),
    version.createdBy?.type === 'session_actor' ? version.createdBy.session_id : null,
  ];
}

/** The columns `versionRowValues` fills (the server's migration 9 defines them: change them only together). */
export const VERSION_COLUMNS =
  'id, memory_store_id, memory_id, operation, path, content, content_sha256, content_size_bytes, created_at, ' +
  'created_by, session_id';

/** The column values of a memory row, for `INSERT INTO memories (…MEMORY_ROW_COLUMNS)`. */
export function memoryRowValues(memory: StoredMemory): unknown[] {
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

/** The columns `memoryRowValues` fills. */
export const MEMORY_ROW_COLUMNS =
  'id, memory_store_id, path, content, content_sha256, content_size_bytes, memory_version_id, created_at, updated_at';

/** A `memories` row as the worker reads it. */
export interface WorkerMemoryRow {
  id: string;
  memory_store_id: string;
  path: string;
  content: string;
  content_sha256: string;
  content_size_bytes: number | string;
  memory_version_id: string;
  created_at: string;
  updated_at: string;
}

/** A memory read from its row. */
export function fromMemoryRow(row: WorkerMemoryRow): StoredMemory {
  return {
    id: row.id,
    memoryStoreId: row.memory_store_id,
    path: row.path,
    content: row.content,
    contentSha256: row.content_sha256,
    contentSizeBytes: Number(row.content_size_bytes),
    memoryVersionId: row.memory_version_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
