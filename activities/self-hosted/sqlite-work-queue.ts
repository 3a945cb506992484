import { randomBytes } from 'node:crypto';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { DEFAULT_LEASE_TTL_SECONDS, newWorkId, planWorkRequest } from '../../common/work-queue';
import type { RequestWorkInput, RequestWorkResult, WorkLease } from '../../common/work-queue';
import { openControlPlaneFile } from '../control-plane-file';

/** A session's open item, as a work request reads it. */
export interface OpenItemRow extends WorkLease {
  id: string;
}

/** Where sessions of self-hosted environments queue their work: the control-plane store, on SQLite or PostgreSQL. */
export interface SelfHostedWorkQueue {
  /**
   * Makes sure an item serves the session: the one that does (queued, or with a live lease) is kept; items whose
   * lease ran out are stopped, and when none serves a new one is queued. Idempotent, so a retried Activity queues at
   * most one item.
   */
  requestWork(input: RequestWorkInput): Promise<RequestWorkResult>;
  /** Closes the queue's database connection (when it owns one). */
  close(): void | Promise<void>;
}

/**
 * The worker's side of a self-hosted environment's work queue: the table `work_items` of the server's control-plane
 * store (migration 5), where the session Workflow asks, through `requestSelfHostedWork`, that a worker serve its
 * session. The server's work routes deliver, lease and stop the items.
 */
export class SqliteWorkQueue implements SelfHostedWorkQueue {
  private database: SqliteDatabase | null = null;

  constructor(
    private readonly filename: string,
    private readonly now: () => number = Date.now,
  ) {}

  requestWork(input: RequestWorkInput): Promise<RequestWorkResult> {
    return new Promise((resolve) => resolve(this.requestWorkNow(input)));
  }

  private requestWorkNow(input: RequestWorkInput): RequestWorkResult {
    const database = this.open();
    const nowMs = this.now();
    const now = new Date(nowMs).toISOString();
    const run = database.transaction((): RequestWorkResult => {
      const open = database
        .prepare<[string], OpenItemRow>(
          `SELECT id, state, acknowledged_at, lease_expires_at FROM work_items
           WHERE session_id = ? AND state != 'stopped' ORDER BY sequence`,
        )
        .all(input.sessionId);
      const { serving, stop } = planWorkRequest(open, nowMs);
      for (const id of stop) {
        database
          .prepare(`UPDATE work_items SET state = 'stopped', stopped_at = ? WHERE id = ? AND state != 'stopped'`)
          .run(now, id);
      }
      if (serving !== null) return { workId: serving, queued: false };
      const workId = newWorkId(randomBytes(12).toString('hex'));
      database
        .prepare(
          `INSERT INTO work_items (id, environment_id, session_id, state, created_at, ttl_seconds, metadata)
           VALUES (?, ?, ?, 'queued', ?, ?, '{}')`,
        )
        .run(workId, input.environmentId, input.sessionId, now, DEFAULT_LEASE_TTL_SECONDS);
      return { workId, queued: true };
    });
    return run.immediate();
  }

  /** Closes the database; a later call opens it again. */
  close(): void {
    this.database?.close();
    this.database = null;
  }

  private open(): SqliteDatabase {
    this.database ??= openControlPlaneFile(this.filename, 'queue work for self-hosted environments');
    return this.database;
  }
}

/** The self-hosted work queue Activities, as the worker registers them. */
export function createSelfHostedActivities(queue: SelfHostedWorkQueue): {
  requestSelfHostedWork(input: RequestWorkInput): Promise<RequestWorkResult>;
} {
  return {
    requestSelfHostedWork: (input) => queue.requestWork(input),
  };
}
