import type { PageRequest, StoredPage, StoredWorkItem, WorkRepository } from './control-plane-store';
import type { PostgresDatabase, PostgresQueries } from './postgres-database';
import { toSequence } from './postgres-database';
import { toStoredWorkItem } from './sqlite-work-repository';
import type { WorkRow } from './sqlite-work-repository';
import { toPage } from './store-pages';

type PostgresWorkRow = Omit<WorkRow, 'sequence'> & { sequence: string };

/**
 * Work items in PostgreSQL (table `work_items`, migration 5). A poll takes the oldest deliverable item with
 * `FOR UPDATE SKIP LOCKED`, so concurrent polls on any server each get a different item; a change locks its item.
 */
export class PostgresWorkRepository implements WorkRepository {
  constructor(private readonly database: PostgresDatabase) {}

  deliverNext(
    environmentId: string,
    workerId: string | null,
    at: string,
    redeliverBefore: string,
  ): Promise<StoredWorkItem | null> {
    return this.database.transaction(async (client) => {
      const { rows } = await client.query<PostgresWorkRow>(
        `SELECT * FROM work_items WHERE environment_id = $1 AND state = 'queued'
           AND (delivered_at IS NULL OR delivered_at < $2)
         ORDER BY sequence LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [environmentId, redeliverBefore],
      );
      const row = rows[0];
      if (row === undefined) return null;
      await client.query('UPDATE work_items SET delivered_at = $2, worker_id = $3 WHERE id = $1', [
        row.id,
        at,
        workerId,
      ]);
      return toStoredWorkItem({ ...row, delivered_at: at, worker_id: workerId });
    });
  }

  find(environmentId: string, id: string): Promise<StoredWorkItem | null> {
    return select(this.database, environmentId, id, false);
  }

  change<Outcome>(
    environmentId: string,
    id: string,
    change: (current: StoredWorkItem) => { item: StoredWorkItem | null; outcome: Outcome },
  ): Promise<{ item: StoredWorkItem; outcome: Outcome } | null> {
    return this.database.transaction(async (client) => {
      const current = await select(client, environmentId, id, true);
      if (current === null) return null;
      const { item, outcome } = change(current);
      if (item === null) return { item: current, outcome };
      await client.query(
        `UPDATE work_items SET state = $2, delivered_at = $3, worker_id = $4, acknowledged_at = $5, started_at = $6,
           last_heartbeat = $7, ttl_seconds = $8, lease_expires_at = $9, stop_requested_at = $10, stopped_at = $11,
           metadata = $12
         WHERE id = $1`,
        [
          id,
          item.state,
          item.deliveredAt,
          item.workerId,
          item.acknowledged_at,
          item.startedAt,
          item.lastHeartbeat,
          item.ttlSeconds,
          item.lease_expires_at,
          item.stopRequestedAt,
          item.stoppedAt,
          JSON.stringify(item.metadata),
        ],
      );
      return { item, outcome };
    });
  }

  async list(environmentId: string, page: PageRequest): Promise<StoredPage<StoredWorkItem>> {
    const after = page.cursor === null ? 0 : Number(page.cursor);
    const { rows } = await this.database.query<PostgresWorkRow>(
      'SELECT * FROM work_items WHERE environment_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3',
      [environmentId, after, page.limit + 1],
    );
    return toPage(rows, page.limit, toStoredWorkItem, (row) => toSequence(row.sequence));
  }

  async stats(environmentId: string): Promise<{ depth: number; pending: number; oldestQueuedAt: string | null }> {
    const { rows } = await this.database.query<{ depth: string; pending: string; oldest: string | null }>(
      `SELECT
         COUNT(*) FILTER (WHERE delivered_at IS NULL) AS depth,
         COUNT(*) FILTER (WHERE delivered_at IS NOT NULL) AS pending,
         MIN(created_at) AS oldest
       FROM work_items WHERE environment_id = $1 AND state = 'queued'`,
      [environmentId],
    );
    const row = rows[0];
    return { depth: Number(row?.depth ?? 0), pending: Number(row?.pending ?? 0), oldestQueuedAt: row?.oldest ?? null };
  }
}

async function select(
  queries: PostgresQueries,
  environmentId: string,
  id: string,
  lock: boolean,
): Promise<StoredWorkItem | null> {
  const { rows } = await queries.query<PostgresWorkRow>(
    `SELECT * FROM work_items WHERE environment_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
    [environmentId, id],
  );
  const row = rows[0];
  return row === undefined ? null : toStoredWorkItem(row);
}
