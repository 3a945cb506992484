import pg from 'pg';
import type { QueryResultRow } from 'pg';
import { checkMigrationOrder, pendingMigrations } from './migrations';
import type { Migration } from './migrations';
import { POSTGRES_MIGRATIONS } from './postgres-migrations';

/** What runs SQL: the pool (each statement on its own) or one transaction's client. */
export interface PostgresQueries {
  query<Row extends QueryResultRow>(sql: string, values?: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
}

/** A key of `pg_advisory_xact_lock` that only Keel's migrations take ("keel" in ASCII). */
const MIGRATION_LOCK = 0x6b65656c;

/**
 * A pool of connections to the control-plane database, with the one way to run a transaction. Row locks
 * (`SELECT … FOR UPDATE`) inside `transaction` make read-change-write atomic across every process of a Keel.
 */
export class PostgresDatabase implements PostgresQueries {
  private closed: Promise<void> | null = null;

  constructor(readonly pool: pg.Pool) {}

  query<Row extends QueryResultRow>(
    sql: string,
    values?: unknown[],
  ): Promise<{ rows: Row[]; rowCount: number | null }> {
    return this.pool.query<Row>(sql, values);
  }

  /** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  async transaction<Result>(work: (client: PostgresQueries) => Promise<Result>): Promise<Result> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Closes every connection (once, however often it is called); the database is unusable after. */
  close(): Promise<void> {
    this.closed ??= this.pool.end();
    return this.closed;
  }
}

/** What `openPostgresDatabase` is given. */
export interface PostgresDatabaseOptions {
  /** `postgres://user:password@host:port/database` (libpq's URL form, `sslmode` included). */
  url: string;
  /** Connections at most (10 by default). */
  maxConnections?: number;
  /** For tests of the migration mechanism. */
  migrations?: readonly Migration[];
}

/**
 * Connects to the control-plane database and brings its schema up to date in one transaction that holds a
 * transaction-level advisory lock, so that servers starting together apply each migration once. An unreachable
 * database fails here, with a message that names the host but never the password.
 */
export async function openPostgresDatabase(
  options: PostgresDatabaseOptions,
): Promise<{ database: PostgresDatabase; appliedMigrations: number[] }> {
  const migrations = options.migrations ?? POSTGRES_MIGRATIONS;
  checkMigrationOrder(migrations);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection the server closed (a restart, a failover) must not crash the process: the pool replaces it.
  pool.on('error', () => undefined);
  const database = new PostgresDatabase(pool);
  try {
    const appliedMigrations = await database.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      const applied = await client.query<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );
      const appliedNow: number[] = [];
      for (const migration of pendingMigrations(applied.rows, migrations)) {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          new Date().toISOString(),
        ]);
        appliedNow.push(migration.version);
      }
      return appliedNow;
    });
    return { database, appliedMigrations };
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw describeConnectionError(error, options.url);
  }
}

/** `error`, or for a failed connection an error naming the database's host and port (never its password). */
function describeConnectionError(error: unknown, url: string): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|28P01|28000|3D000)$/.test(code)) {
    return error;
  }
  let where = 'the database';
  try {
    const parsed = new URL(url);
    where = `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    // An unparsable URL: say nothing about it rather than echo it.
  }
  return new Error(
    `Cannot use the PostgreSQL control plane at ${where} (KEEL_DATABASE_URL): ${(error as Error).message}`,
    {
      cause: error,
    },
  );
}

/** A `BIGINT` column as pg returns it (text, exact) turned into a number; Keel's sequences stay far below 2^53. */
export function toSequence(value: string | number): number {
  return typeof value === 'number' ? value : Number(value);
}
