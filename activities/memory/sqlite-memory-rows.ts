import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { MemoryFile, MemorySyncResult, SandboxMemoryMount, SessionMemoryRows } from '../../common/memory';
import { openControlPlaneFile } from '../control-plane-file';
import {
  MEMORY_COLUMNS,
  MEMORY_VERSION_COLUMNS,
  memoryValues,
  memoryVersionValues,
  toStoredMemory,
} from '../../common/memory-rows';
import type { MemoryRow } from '../../common/memory-rows';
import { sandboxSyncChanges, syncCounts } from './sandbox-sync-plan';

/**
 * The worker's `SessionMemoryRows` on the server's SQLite file (tables of the server's migration 9:
 * `session_memory_stores`, `memory_stores`, `memories`, `memory_versions`), opened on first use.
 */
export class SqliteMemoryRows implements SessionMemoryRows {
  private database: SqliteDatabase | null = null;

  constructor(private readonly filename: string) {}

  mountsOf(sessionId: string): Promise<SandboxMemoryMount[]> {
    return new Promise((resolve) =>
      resolve(
        this.open()
          .prepare<[string], SandboxMemoryMount>(
            `SELECT memory_store_id AS memoryStoreId, mount_path AS mountPath, access FROM session_memory_stores
             WHERE session_id = ? ORDER BY mount_path`,
          )
          .all(sessionId),
      ),
    );
  }

  memoriesOf(storeId: string): Promise<Array<{ id: string; path: string; content: string }>> {
    return new Promise((resolve) =>
      resolve(
        this.open()
          .prepare<[string], { id: string; path: string; content: string }>(
            'SELECT id, path, content FROM memories WHERE memory_store_id = ? ORDER BY path',
          )
          .all(storeId),
      ),
    );
  }

  syncFromSandbox(
    storeId: string,
    sessionId: string,
    files: readonly MemoryFile[],
    touched?: ReadonlySet<string>,
  ): Promise<MemorySyncResult> {
    return new Promise((resolve) => {
      const database = this.open();
      const sync = database.transaction((): MemorySyncResult => {
        const store = database
          .prepare<[string], { archived_at: string | null }>('SELECT archived_at FROM memory_stores WHERE id = ?')
          .get(storeId);
        if (store === undefined) return { kind: 'store_gone' };
        if (store.archived_at !== null) return { kind: 'store_archived' };
        const stored = database
          .prepare<[string], MemoryRow>('SELECT * FROM memories WHERE memory_store_id = ?')
          .all(storeId)
          .map(toStoredMemory);
        const changes = sandboxSyncChanges(storeId, sessionId, stored, files, new Date().toISOString(), touched);
        for (const change of changes) {
          const { memory, version } = change;
          if (change.kind === 'delete') {
            database.prepare('DELETE FROM memories WHERE id = ?').run(version.memoryId);
          } else if (memory !== null && change.kind === 'insert') {
            database
              .prepare(`INSERT INTO memories (${MEMORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
              .run(...memoryValues(memory));
          } else if (memory !== null) {
            database
              .prepare(
                `UPDATE memories SET content = ?, content_sha256 = ?, content_size_bytes = ?, memory_version_id = ?,
                   updated_at = ? WHERE id = ?`,
              )
              .run(
                memory.content,
                memory.contentSha256,
                memory.contentSizeBytes,
                memory.memoryVersionId,
                memory.updatedAt,
                memory.id,
              );
          }
          database
            .prepare(
              `INSERT INTO memory_versions (${MEMORY_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(...memoryVersionValues(version));
        }
        return { kind: 'synced', ...syncCounts(changes) };
      });
      resolve(sync.immediate());
    });
  }

  /** Closes the database; a later call opens it again. */
  close(): void {
    this.database?.close();
    this.database = null;
  }

  private open(): SqliteDatabase {
    this.database ??= openControlPlaneFile(this.filename, 'mount memory stores');
    return this.database;
  }
}
