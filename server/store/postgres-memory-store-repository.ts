import { decideMemoryWrite, memoryPathAncestors } from '../../common/memory';
import type {
  MemoryActor,
  MemoryWrite,
  MemoryWriteContext,
  SandboxMemoryMount,
  StoredMemory,
  StoredMemoryVersion,
} from '../../common/memory';
import type { StoredPage } from './control-plane-store';
import {
  MEMORY_COLUMNS,
  MEMORY_VERSION_COLUMNS,
  memoryValues,
  memoryVersionValues,
  toStoredMemory,
} from '../../common/memory-rows';
import {
  byPath,
  MEMORY_SUMMARY_COLUMNS,
  toMemorySummary,
  toStoredMemoryStore,
  toStoredMemoryVersion,
} from './memory-rows';
import type { MemoryRow } from '../../common/memory-rows';
import type { MemoryStoreRow, MemoryVersionRow } from './memory-rows';
import type {
  MemoryRedactOutcome,
  MemoryStoreListRequest,
  MemoryStoreRepository,
  MemoryVersionListRequest,
  MemoryWriteOutcome,
  StoredMemoryStore,
  StoredMemorySummary,
} from './memory-store-repository';
import type { PostgresDatabase, PostgresQueries } from './postgres-database';
import { toSequence } from './postgres-database';
import { storeValues } from './sqlite-memory-store-repository';
import { parseCursor, toPage } from './store-pages';

const placeholders = (count: number): string => Array.from({ length: count }, (_, index) => `$${index + 1}`).join(', ');

/**
 * Memory stores, memories and versions in PostgreSQL. A write locks its store's row (`FOR UPDATE`) first, so the
 * writes to one store are serialised across every process and the path-overlap check cannot race.
 */
export class PostgresMemoryStoreRepository implements MemoryStoreRepository {
  constructor(private readonly database: PostgresDatabase) {}

  async insertStore(store: StoredMemoryStore): Promise<void> {
    await this.database.query(
      `INSERT INTO memory_stores (id, workspace_id, created_at, updated_at, archived_at, name, description, metadata)
       VALUES (${placeholders(8)})`,
      storeValues(store),
    );
  }

  getStore(id: string): Promise<StoredMemoryStore | null> {
    return readStore(this.database, id, false);
  }

  async listStores(request: MemoryStoreListRequest): Promise<StoredPage<StoredMemoryStore>> {
    const { rows } = await this.database.query<MemoryStoreRow>(
      `SELECT * FROM memory_stores
       WHERE ($1::boolean OR archived_at IS NULL) AND ($2::text IS NULL OR workspace_id = $2)
         AND ($3::text IS NULL OR created_at >= $3) AND ($4::text IS NULL OR created_at <= $4)
         AND ($5::bigint IS NULL OR sequence < $5)
       ORDER BY sequence DESC LIMIT $6`,
      [
        request.includeArchived,
        request.workspaceId ?? null,
        request.createdAtOrAfter,
        request.createdAtOrBefore,
        parseCursor(request.cursor),
        request.limit + 1,
      ],
    );
    return toPage(rows, request.limit, toStoredMemoryStore, (row) => toSequence(row.sequence));
  }

  updateStore(
    id: string,
    change: (current: StoredMemoryStore) => StoredMemoryStore,
  ): Promise<StoredMemoryStore | null> {
    return this.database.transaction(async (client) => {
      const current = await readStore(client, id, true);
      if (current === null) return null;
      const next = change(current);
      await client.query(
        'UPDATE memory_stores SET updated_at = $1, archived_at = $2, name = $3, description = $4, metadata = $5 WHERE id = $6',
        [next.updatedAt, next.archivedAt, next.name, next.description, JSON.stringify(next.metadata), id],
      );
      return readStore(client, id, false);
    });
  }

  deleteStore(id: string): Promise<boolean> {
    return this.database.transaction(async (client) => {
      await client.query('DELETE FROM session_memory_stores WHERE memory_store_id = $1', [id]);
      const { rowCount } = await client.query('DELETE FROM memory_stores WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    });
  }

  getMemory(storeId: string, memoryId: string): Promise<StoredMemory | null> {
    return readMemory(this.database, storeId, memoryId);
  }

  async listMemories(storeId: string, pathPrefix: string): Promise<StoredMemorySummary[]> {
    const { rows } = await this.database.query<MemoryRow>(
      `SELECT ${MEMORY_SUMMARY_COLUMNS} FROM memories WHERE memory_store_id = $1 AND substr(path, 1, length($2::text)) = $2::text`,
      [storeId, pathPrefix],
    );
    return rows.map(toMemorySummary).sort(byPath);
  }

  writeMemory(storeId: string, write: MemoryWrite, context: MemoryWriteContext): Promise<MemoryWriteOutcome> {
    return this.database.transaction((client) => applyWrite(client, storeId, write, context));
  }

  async getVersion(storeId: string, versionId: string): Promise<StoredMemoryVersion | null> {
    return readVersion(this.database, storeId, versionId);
  }

  async listVersions(storeId: string, request: MemoryVersionListRequest): Promise<StoredPage<StoredMemoryVersion>> {
    const { rows } = await this.database.query<MemoryVersionRow>(
      `SELECT * FROM memory_versions
       WHERE memory_store_id = $1 AND ($2::text IS NULL OR memory_id = $2) AND ($3::text IS NULL OR operation = $3)
         AND ($4::text IS NULL OR session_id = $4) AND ($5::text IS NULL OR api_key_id = $5)
         AND ($6::text IS NULL OR created_at >= $6) AND ($7::text IS NULL OR created_at <= $7)
         AND ($8::bigint IS NULL OR sequence < $8)
       ORDER BY sequence DESC LIMIT $9`,
      [
        storeId,
        request.memoryId,
        request.operation,
        request.sessionId,
        request.apiKeyId,
        request.createdAtOrAfter,
        request.createdAtOrBefore,
        parseCursor(request.cursor),
        request.limit + 1,
      ],
    );
    return toPage(rows, request.limit, toStoredMemoryVersion, (row) => toSequence(row.sequence));
  }

  redactVersion(
    storeId: string,
    versionId: string,
    at: string,
    actor: MemoryActor | null,
  ): Promise<MemoryRedactOutcome> {
    return this.database.transaction(async (client) => {
      if ((await readStore(client, storeId, true)) === null) return { kind: 'store_not_found' };
      await client.query(
        `UPDATE memory_versions SET path = NULL, content = NULL, content_sha256 = NULL, content_size_bytes = NULL,
           redacted_at = $1, redacted_by = $2
         WHERE memory_store_id = $3 AND id = $4 AND redacted_at IS NULL`,
        [at, actor === null ? null : JSON.stringify(actor), storeId, versionId],
      );
      const version = await readVersion(client, storeId, versionId);
      return version === null ? { kind: 'version_not_found' } : { kind: 'redacted', version };
    });
  }

  async attachToSession(sessionId: string, mounts: readonly SandboxMemoryMount[], at: string): Promise<void> {
    for (const mount of mounts) {
      await this.database.query(
        `INSERT INTO session_memory_stores (memory_store_id, session_id, mount_path, access, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [mount.memoryStoreId, sessionId, mount.mountPath, mount.access, at],
      );
    }
  }

  async sessionsOf(storeId: string, limit: number): Promise<string[]> {
    const { rows } = await this.database.query<{ session_id: string }>(
      `SELECT session_id FROM session_memory_stores WHERE memory_store_id = $1
       ORDER BY created_at DESC, session_id DESC LIMIT $2`,
      [storeId, limit],
    );
    return rows.map((row) => row.session_id);
  }
}

async function applyWrite(
  client: PostgresQueries,
  storeId: string,
  write: MemoryWrite,
  context: MemoryWriteContext,
): Promise<MemoryWriteOutcome> {
  const store = await readStore(client, storeId, true);
  if (store === null) return { kind: 'store_not_found' };
  if (write.op !== 'delete' && store.archivedAt !== null) return { kind: 'store_archived' };
  const current = write.op === 'create' ? null : await readMemory(client, storeId, write.memoryId);
  const decision = decideMemoryWrite(storeId, current, write, context);
  if (decision.kind === 'refused') return { kind: decision.reason };
  if (decision.kind === 'unchanged') return { kind: 'done', memory: decision.memory, version: null };
  const { memory, version } = decision;
  if (memory !== null && memory.path !== current?.path) {
    const { rows } = await client.query<{ id: string; path: string }>(
      `SELECT id, path FROM memories
       WHERE memory_store_id = $1 AND id != $2
         AND (path = $3::text OR path = ANY($4::text[]) OR substr(path, 1, length($3::text) + 1) = $3::text || '/')
       LIMIT 1`,
      [storeId, memory.id, memory.path, memoryPathAncestors(memory.path)],
    );
    const conflict = rows[0];
    if (conflict !== undefined) return { kind: 'path_conflict', memoryId: conflict.id, path: conflict.path };
  }
  if (current === null && memory !== null) {
    await client.query(`INSERT INTO memories (${MEMORY_COLUMNS}) VALUES (${placeholders(9)})`, memoryValues(memory));
  } else if (memory === null) {
    await client.query('DELETE FROM memories WHERE memory_store_id = $1 AND id = $2', [storeId, version.memoryId]);
  } else {
    await client.query(
      `UPDATE memories SET path = $1, content = $2, content_sha256 = $3, content_size_bytes = $4, memory_version_id = $5,
         updated_at = $6 WHERE memory_store_id = $7 AND id = $8`,
      [
        memory.path,
        memory.content,
        memory.contentSha256,
        memory.contentSizeBytes,
        memory.memoryVersionId,
        memory.updatedAt,
        storeId,
        memory.id,
      ],
    );
  }
  await client.query(
    `INSERT INTO memory_versions (${MEMORY_VERSION_COLUMNS}) VALUES (${placeholders(12)})`,
    memoryVersionValues(version),
  );
  return { kind: 'done', memory, version };
}

async function readStore(client: PostgresQueries, id: string, lock: boolean): Promise<StoredMemoryStore | null> {
  const { rows } = await client.query<MemoryStoreRow>(
    `SELECT * FROM memory_stores WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  const row = rows[0];
  return row === undefined ? null : toStoredMemoryStore(row);
}

async function readMemory(client: PostgresQueries, storeId: string, memoryId: string): Promise<StoredMemory | null> {
  const { rows } = await client.query<MemoryRow>('SELECT * FROM memories WHERE memory_store_id = $1 AND id = $2', [
    storeId,
    memoryId,
  ]);
  const row = rows[0];
  return row === undefined ? null : toStoredMemory(row);
}

async function readVersion(
  client: PostgresQueries,
  storeId: string,
  versionId: string,
): Promise<StoredMemoryVersion | null> {
  const { rows } = await client.query<MemoryVersionRow>(
    'SELECT * FROM memory_versions WHERE memory_store_id = $1 AND id = $2',
    [storeId, versionId],
  );
  const row = rows[0];
  return row === undefined ? null : toStoredMemoryVersion(row);
}
