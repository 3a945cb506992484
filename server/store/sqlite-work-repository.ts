import type { Database, Statement } from 'better-sqlite3';
import type { WorkState } from '../../common/work-queue';
import type { PageRequest, StoredPage, StoredWorkItem, WorkRepository } from './control-plane-store';
import { settle } from './sqlite-database';
import { toPage } from './store-pages';

export interface WorkRow {
  sequence: number;
  id: string;
  environment_id: string;
  session_id: string;
  state: WorkState;
  created_at: string;
  delivered_at: string | null;
  worker_id: string | null;
  acknowledged_at: string | null;
  started_at: string | null;
  last_heartbeat: string | null;
  ttl_seconds: number;
  lease_expires_at: string | null;
  stop_requested_at: string | null;
  stopped_at: string | null;
  metadata: string;
}

/** Work items in the embedded SQLite store (table `work_items`, migration 5). */
export class SqliteWorkRepository implements WorkRepository {
  private readonly selectNext: Statement<{ environmentId: string; redeliverBefore: string }, WorkRow>;
  private readonly markDelivered: Statement<{ id: string; at: string; workerId: string | null }>;
  private readonly selectOne: Statement<{ environmentId: string; id: string }, WorkRow>;
  private readonly updateOne: Statement<Record<string, unknown>>;
  private readonly selectPage: Statement<{ environmentId: string; after: number; limit: number }, WorkRow>;
  private readonly selectStats: Statement<
    { environmentId: string },
    { depth: number; pending: number; oldest: string | null }
  >;

  constructor(private readonly database: Database) {
    this.selectNext = database.prepare(
      `SELECT * FROM work_items WHERE environment_id = @environmentId AND state = 'queued'
         AND (delivered_at IS NULL OR delivered_at < @redeliverBefore) ORDER BY sequence LIMIT 1`,
    );
    this.markDelivered = database.prepare(
      'UPDATE work_items SET delivered_at = @at, worker_id = @workerId WHERE id = @id',
    );
    this.selectOne = database.prepare('SELECT * FROM work_items WHERE environment_id = @environmentId AND id = @id');
    this.updateOne = database.prepare(
      `UPDATE work_items SET state = @state, delivered_at = @deliveredAt, worker_id = @workerId,
         acknowledged_at = @acknowledgedAt, started_at = @startedAt, last_heartbeat = @lastHeartbeat,
         ttl_seconds = @ttlSeconds, lease_expires_at = @leaseExpiresAt, stop_requested_at = @stopRequestedAt,
         stopped_at = @stoppedAt, metadata = @metadata
       WHERE id = @id`,
    );
    this.selectPage = database.prepare(
      `SELECT * FROM work_items WHERE environment_id = @environmentId AND sequence > @after
       ORDER BY sequence LIMIT @limit`,
    );
    this.selectStats = database.prepare(
      `SELECT
         COALESCE(SUM(CASE WHEN delivered_at IS NULL THEN 1 ELSE 0 END), 0) AS depth,
         COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS pending,
         MIN(created_at) AS oldest
       FROM work_items WHERE environment_id = @environmentId AND state = 'queued'`,
    );
  }

  deliverNext(
    environmentId: string,
    workerId: string | null,
    at: string,
    redeliverBefore: string,
  ): Promise<StoredWorkItem | null> {
    return settle(() =>
      this.database
        .transaction(() => {
          const row = this.selectNext.get({ environmentId, redeliverBefore });
          if (row === undefined) return null;
          this.markDelivered.run({ id: row.id, at, workerId });
          return toStoredWorkItem({ ...row, delivered_at: at, worker_id: workerId });
        })
        .immediate(),
    );
  }

  find(environmentId: string, id: string): Promise<StoredWorkItem | null> {
    return settle(() => {
      const row = this.selectOne.get({ environmentId, id });
      return row === undefined ? null : toStoredWorkItem(row);
    });
  }

  change<Outcome>(
    environmentId: string,
    id: string,
    change: (current: StoredWorkItem) => { item: StoredWorkItem | null; outcome: Outcome },
  ): Promise<{ item: StoredWorkItem; outcome: Outcome } | null> {
    return settle(() =>
      this.database
        .transaction(() => {
          const row = this.selectOne.get({ environmentId, id });
          if (row === undefined) return null;
          const current = toStoredWorkItem(row);
          const { item, outcome } = change(current);
          if (item === null) return { item: current, outcome };
          this.updateOne.run({
            id,
            state: item.state,
            deliveredAt: item.deliveredAt,
            workerId: item.workerId,
            acknowledgedAt: item.acknowledged_at,
            startedAt: item.startedAt,
            lastHeartbeat: item.lastHeartbeat,
            ttlSeconds: item.ttlSeconds,
            leaseExpiresAt: item.lease_expires_at,
            stopRequestedAt: item.stopRequestedAt,
            stoppedAt: item.stoppedAt,
            metadata: JSON.stringify(item.metadata),
          });
          return { item, outcome };
        })
        .immediate(),
    );
  }

  list(environmentId: string, page: PageRequest): Promise<StoredPage<StoredWorkItem>> {
    return settle(() => {
      const after = page.cursor === null ? 0 : Number(page.cursor);
      const rows = this.selectPage.all({ environmentId, after, limit: page.limit + 1 });
      return toPage(rows, page.limit, toStoredWorkItem, (row) => row.sequence);
    });
  }

  stats(environmentId: string): Promise<{ depth: number; pending: number; oldestQueuedAt: string | null }> {
    return settle(() => {
      const row = this.selectStats.get({ environmentId });
      return { depth: row?.depth ?? 0, pending: row?.pending ?? 0, oldestQueuedAt: row?.oldest ?? null };
    });
  }
}

/** A work item read from its row (the PostgreSQL store's rows have the same columns). */
export function toStoredWorkItem(row: Omit<WorkRow, 'sequence'>): StoredWorkItem {
  return {
    id: row.id,
    environmentId: row.environment_id,
    sessionId: row.session_id,
    state: row.state,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    workerId: row.worker_id,
    acknowledged_at: row.acknowledged_at,
    startedAt: row.started_at,
    lastHeartbeat: row.last_heartbeat,
    ttlSeconds: row.ttl_seconds,
    lease_expires_at: row.lease_expires_at,
    stopRequestedAt: row.stop_requested_at,
    stoppedAt: row.stopped_at,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
  };
}
