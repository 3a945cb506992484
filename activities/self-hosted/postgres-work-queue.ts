import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { DEFAULT_LEASE_TTL_SECONDS, newWorkId, planWorkRequest } from '../../common/work-queue';
import type { RequestWorkInput, RequestWorkResult } from '../../common/work-queue';
import { inPostgresTransaction } from '../postgres-control-plane';
import type { OpenItemRow, SelfHostedWorkQueue } from './sqlite-work-queue';

/**
 * The worker's side of a self-hosted environment's work queue on the PostgreSQL control plane (table `work_items`,
 * migration 5). A request holds a transaction-level advisory lock on its session, so two workers retrying the same
 * Activity never both queue an item. The pool belongs to the caller.
 */
export class PostgresWorkQueue implements SelfHostedWorkQueue {
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => number = Date.now,
  ) {}

  requestWork(input: RequestWorkInput): Promise<RequestWorkResult> {
    return inPostgresTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`work_items:${input.sessionId}`]);
      const nowMs = this.now();
      const now = new Date(nowMs).toISOString();
      const { rows } = await client.query<OpenItemRow>(
        `SELECT id, state, acknowledged_at, lease_expires_at FROM work_items
         WHERE session_id = $1 AND state != 'stopped' ORDER BY sequence`,
        [input.sessionId],
      );
      const { serving, stop } = planWorkRequest(rows, nowMs);
      if (stop.length > 0) {
        await client.query(
          `UPDATE work_items SET state = 'stopped', stopped_at = $1 WHERE id = ANY($2::text[]) AND state != 'stopped'`,
          [now, stop],
        );
      }
      if (serving !== null) return { workId: serving, queued: false };
      const workId = newWorkId(randomBytes(12).toString('hex'));
      await client.query(
        `INSERT INTO work_items (id, environment_id, session_id, state, created_at, ttl_seconds, metadata)
         VALUES ($1, $2, $3, 'queued', $4, $5, '{}')`,
        [workId, input.environmentId, input.sessionId, now, DEFAULT_LEASE_TTL_SECONDS],
      );
      return { workId, queued: true };
    });
  }

  close(): void {
    // The pool is the worker's, closed when the worker stops.
  }
}
