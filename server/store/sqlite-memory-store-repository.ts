import type { Database } from 'better-sqlite3';
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
import { settle } from './sqlite-database';
import { parseCursor, toPage } from './store-pages';

const placeholders = (count: number): string => Array.from({ length: count }, () => '?').join(', ');

/** Memory stores, memories and versions in SQLite; each write is one immediate (write-locked) transaction. */
export class SqliteMemoryStoreRepository implements MemoryStoreRepository {
  constructor(private readonly database: Database) {}

  insertStore(store: StoredMemoryStore): Promise<void> {
    return settle(
      () =>
        void this.database
          .prepare(
            `INSERT INTO memory_stores (id, workspace_id, created_at, updated_at, archived_at, name, description, metadata)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(...storeValues(store)),
    );
  }

  getStore(id: string): Promise<StoredMemoryStore | null> {
    return settle(() => this.readStore(id));
  }

  listStores(request: MemoryStoreListRequest): Promise<StoredPage<StoredMemoryStore>> {
    return settle(() => {
      const rows = this.database
        .prepare<Record<string, unknown>, MemoryStoreRow>(
          `SELECT * FROM memory_stores
           WHERE (@includeArchived OR archived_at IS NULL) AND (@workspaceId IS NULL OR workspace_id = @workspaceId)
             AND (@after IS NULL OR created_at >= @after) AND (@before IS NULL OR created_at <= @before)
             AND (@cursor IS NULL OR sequence < @cursor)
           ORDER BY sequence DESC LIMIT @limit`,
        )
        .all({
          includeArchived: request.includeArchived ? 1 : 0,
          workspaceId: request.workspaceId ?? null,
          after: request.createdAtOrAfter,
          before: request.createdAtOrBefore,
          cursor: parseCursor(request.cursor),
          limit: request.limit + 1,
        });
      return toPage(rows, request.limit, toStoredMemoryStore, (row) => Number(row.sequence));
    });
  }

  updateStore(
    id: string,
    change: (current: StoredMemoryStore) => StoredMemoryStore,
  ): Promise<StoredMemoryStore | null> {
    return settle(() =>
      this.database
        .transaction((): StoredMemoryStore | null => {
          const current = this.readStore(id);
          if (current === null) return null;
          const next = change(current);
          this.database
            .prepare(
              `UPDATE memory_stores SET updated_at = ?, archived_at = ?, name = ?, description = ?, metadata = ?
               WHERE id = ?`,
            )
            .run(next.updatedAt, next.archivedAt, next.name, next.description, JSON.stringify(next.metadata), id);
          return this.readStore(id);
        })
        .immediate(),
    );
  }

  deleteStore(id: string): Promise<boolean> {
    return settle(() =>
      this.database
        .transaction((): boolean => {
          this.database.prepare('DELETE FROM session_memory_stores WHERE memory_store_id = ?').run(id);
          return this.database.prepare('DELETE FROM memory_stores WHERE id = ?').run(id).changes > 0;
        })
        .immediate(),
    );
  }

  getMemory(storeId: string, memoryId: string): Promise<StoredMemory | null> {
    return settle(() => this.readMemory(storeId, memoryId));
  }

  listMemories(storeId: string, pathPrefix: string): Promise<StoredMemorySummary[]> {
    return settle(() =>
      this.database
        .prepare<[string, string, string], MemoryRow>(
          `SELECT ${MEMORY_SUMMARY_COLUMNS} FROM memories
           WHERE memory_store_id = ? AND substr(path, 1, length(?)) = ?`,
        )
        .all(storeId, pathPrefix, pathPrefix)
        .map(toMemorySummary)
        .sort(byPath),
    );
  }

  writeMemory(storeId: string, write: MemoryWrite, context: MemoryWriteContext): Promise<MemoryWriteOutcome> {
    return settle(() =>
      this.database.transaction((): MemoryWriteOutcome => this.applyWrite(storeId, write, context)).immediate(),
    );
  }

  getVersion(storeId: string, versionId: string): Promise<StoredMemoryVersion | null> {
    return settle(() => this.readVersion(storeId, versionId));
  }

  listVersions(storeId: string, request: MemoryVersionListRequest): Promise<StoredPage<StoredMemoryVersion>> {
    return settle(() => {
      const rows = this.database
        .prepare<Record<string, unknown>, MemoryVersionRow>(
          `SELECT * FROM memory_versions
           WHERE memory_store_id = @storeId AND (@memoryId IS NULL OR memory_id = @memoryId)
             AND (@operation IS NULL OR operation = @operation) AND (@sessionId IS NULL OR session_id = @sessionId)
             AND (@apiKeyId IS NULL OR api_key_id = @apiKeyId)
             AND (@after IS NULL OR created_at >= @after) AND (@before IS NULL OR created_at <= @before)
             AND (@cursor IS NULL OR sequence < @cursor)
           ORDER BY sequence DESC LIMIT @limit`,
        )
        .all({
          storeId,
          memoryId: request.memoryId,
          operation: request.operation,
          sessionId: request.sessionId,
          apiKeyId: request.apiKeyId,
          after: request.createdAtOrAfter,
          before: request.createdAtOrBefore,
          cursor: parseCursor(request.cursor),
          limit: request.limit + 1,
        });
      return toPage(rows, request.limit, toStoredMemoryVersion, (row) => Number(row.sequence));
    });
  }

  redactVersion(
    storeId: string,
    versionId: string,
    at: string,
    actor: MemoryActor | null,
  ): Promise<MemoryRedactOutcome> {
    return settle(() =>
      this.database
        .transaction((): MemoryRedactOutcome => {
          if (this.readStore(storeId) === null) return { kind: 'store_not_found' };
          this.database
            .prepare(
              `UPDATE memory_versions SET path = NULL, content = NULL, content_sha256 = NULL, content_size_bytes = NULL,
                 redacted_at = ?, redacted_by = ?
               WHERE memory_store_id = ? AND id = ? AND redacted_at IS NULL`,
            )
            .run(at, actor === null ? null : JSON.stringify(actor), storeId, versionId);
          const version = this.readVersion(storeId, versionId);
          return version === null ? { kind: 'version_not_found' } : { kind: 'redacted', version };
        })
        .immediate(),
    );
  }

  attachToSession(sessionId: string, mounts: readonly SandboxMemoryMount[], at: string): Promise<void> {
    return settle(() => {
      const insert = this.database.prepare(
        `INSERT OR IGNORE INTO session_memory_stores (memory_store_id, session_id, mount_path, access, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      );
      this.database
        .transaction(() =>
          mounts.forEach((mount) => insert.run(mount.memoryStoreId, sessionId, mount.mountPath, mount.access, at)),
        )
        .immediate();
    });
  }

  sessionsOf(storeId: string, limit: number): Promise<string[]> {
    return settle(() =>
      this.database
        .prepare<[string, number], { session_id: string }>(
          `SELECT session_id FROM session_memory_stores WHERE memory_store_id = ?
           ORDER BY created_at DESC, session_id DESC LIMIT ?`,
        )
        .all(storeId, limit)
        .map((row) => row.session_id),
    );
  }

  private applyWrite(storeId: string, write: MemoryWrite, context: MemoryWriteContext): MemoryWriteOutcome {
    const store = this.readStore(storeId);
    if (store === null) return { kind: 'store_not_found' };
    if (write.op !== 'delete' && store.archivedAt !== null) return { kind: 'store_archived' };
    const current = write.op === 'create' ? null : this.readMemory(storeId, write.memoryId);
    const decision = decideMemoryWrite(storeId, current, write, context);
    if (decision.kind === 'refused') return { kind: decision.reason };
    if (decision.kind === 'unchanged') return { kind: 'done', memory: decision.memory, version: null };
    const { memory, version } = decision;
    if (memory !== null && memory.path !== current?.path) {
      const conflict = this.findConflict(storeId, memory.path, memory.id);
      if (conflict !== undefined) return { kind: 'path_conflict', memoryId: conflict.id, path: conflict.path };
    }
    if (current === null && memory !== null) {
      this.database
        .prepare(`INSERT INTO memories (${MEMORY_COLUMNS}) VALUES (${placeholders(9)})`)
        .run(...memoryValues(memory));
    } else if (memory === null) {
      this.database.prepare('DELETE FROM memories WHERE memory_store_id = ? AND id = ?').run(storeId, version.memoryId);
    } else {
      this.database
        .prepare(
          `UPDATE memories SET path = ?, content = ?, content_sha256 = ?, content_size_bytes = ?, memory_version_id = ?,
             updated_at = ? WHERE memory_store_id = ? AND id = ?`,
        )
        .run(
          memory.path,
          memory.content,
          memory.contentSha256,
          memory.contentSizeBytes,
          memory.memoryVersionId,
          memory.updatedAt,
          storeId,
          memory.id,
        );
    }
    this.database
      .prepare(`INSERT INTO memory_versions (${MEMORY_VERSION_COLUMNS}) VALUES (${placeholders(12)})`)
      .run(...memoryVersionValues(version));
    return { kind: 'done', memory, version };
  }

  private findConflict(storeId: string, path: string, memoryId: string): { id: string; path: string } | undefined {
    return this.database
      .prepare<[string, string, string, string, string, string], { id: string; path: string }>(
        `SELECT id, path FROM memories
         WHERE memory_store_id = ? AND id != ?
           AND (path = ? OR path IN (SELECT value FROM json_each(?)) OR substr(path, 1, length(?) + 1) = ? || '/')
         LIMIT 1`,
      )
      .get(storeId, memoryId, path, JSON.stringify(memoryPathAncestors(path)), path, path);
  }

  private readStore(id: string): StoredMemoryStore | null {
    const row = this.database.prepare<[string], MemoryStoreRow>('SELECT * FROM memory_stores WHERE id = ?').get(id);
    return row === undefined ? null : toStoredMemoryStore(row);
  }

  private readMemory(storeId: string, memoryId: string): StoredMemory | null {
    const row = this.database
      .prepare<[string, string], MemoryRow>('SELECT * FROM memories WHERE memory_store_id = ? AND id = ?')
      .get(storeId, memoryId);
    return row === undefined ? null : toStoredMemory(row);
  }

  private readVersion(storeId: string, versionId: string): StoredMemoryVersion | null {
    const row = this.database
      .prepare<[string, string], MemoryVersionRow>('SELECT * FROM memory_versions WHERE memory_store_id = ? AND id = ?')
      .get(storeId, versionId);
    return row === undefined ? null : toStoredMemoryVersion(row);
  }
}

/** The column values of a store row, in the order the insert names them. */
export function storeValues(store: StoredMemoryStore): unknown[] {
  return [
    store.id,
    store.workspaceId,
    store.createdAt,
    store.updatedAt,
    store.archivedAt,
    store.name,
    store.description,
    JSON.stringify(store.metadata),
  ];
}
