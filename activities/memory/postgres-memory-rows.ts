import type pg from 'pg';
import type { MemoryFile, MemorySyncResult, SandboxMemoryMount, SessionMemoryRows } from '../../common/memory';
import { inPostgresTransaction } from '../postgres-control-plane';
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
 * The worker's `SessionMemoryRows` on the server's PostgreSQL control plane; a sync locks the store's row first, as the
 * server's writes do, so the two never interleave. The pool belongs to the caller.
 */
export class PostgresMemoryRows implements SessionMemoryRows {
  constructor(private readonly pool: pg.Pool) {}

  async mountsOf(sessionId: string): Promise<SandboxMemoryMount[]> {
    const { rows } = await this.pool.query<SandboxMemoryMount>(
      `SELECT memory_store_id AS "memoryStoreId", mount_path AS "mountPath", access FROM session_memory_stores
       WHERE session_id = $1 ORDER BY mount_path`,
      [sessionId],
    );
    return rows;
  }

  async memoriesOf(storeId: string): Promise<Array<{ id: string; path: string; content: string }>> {
    const { rows } = await this.pool.query<{ id: string; path: string; content: string }>(
      'SELECT id, path, content FROM memories WHERE memory_store_id = $1 ORDER BY path',
      [storeId],
    );
    return rows;
  }

  syncFromSandbox(
    storeId: string,
    sessionId: string,
    files: readonly MemoryFile[],
    touched?: ReadonlySet<string>,
  ): Promise<MemorySyncResult> {
    return inPostgresTransaction(this.pool, async (client): Promise<MemorySyncResult> => {
      const store = await client.query<{ archived_at: string | null }>(
        'SELECT archived_at FROM memory_stores WHERE id = $1 FOR UPDATE',
        [storeId],
      );
      const row = store.rows[0];
      if (row === undefined) return { kind: 'store_gone' };
      if (row.archived_at !== null) return { kind: 'store_archived' };
      const stored = (
        await client.query<MemoryRow>('SELECT * FROM memories WHERE memory_store_id = $1', [storeId])
      ).rows.map(toStoredMemory);
      const changes = sandboxSyncChanges(storeId, sessionId, stored, files, new Date().toISOString(), touched);
      for (const change of changes) {
        const { memory, version } = change;
        if (change.kind === 'delete') {
          await client.query('DELETE FROM memories WHERE id = $1', [version.memoryId]);
        } else if (memory !== null && change.kind === 'insert') {
          await client.query(
            `INSERT INTO memories (${MEMORY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
            memoryValues(memory),
          );
        } else if (memory !== null) {
          await client.query(
            `UPDATE memories SET content = $1, content_sha256 = $2, content_size_bytes = $3, memory_version_id = $4,
               updated_at = $5 WHERE id = $6`,
            [
              memory.content,
              memory.contentSha256,
              memory.contentSizeBytes,
              memory.memoryVersionId,
              memory.updatedAt,
              memory.id,
            ],
          );
        }
        await client.query(
          `INSERT INTO memory_versions (${MEMORY_VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          memoryVersionValues(version),
        );
      }
      return { kind: 'synced', ...syncCounts(changes) };
    });
  }
}
