import pg from 'pg';

/**
 * The worker's connections to the server's PostgreSQL control plane (`KEEL_DATABASE_URL`), for the Activities that
 * read it (vault credentials, repository tokens) or write it (the self-hosted work queue). The server creates and
 * migrates the schema; a worker only uses it. Few connections: the worker's reads are rare and short.
 */
export function openWorkerPostgresPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
  // An idle connection the server closed (a restart, a failover) must not crash the worker: the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `work` in one transaction on one connection of `pool`: committed when it resolves, rolled back when it throws. */
export async function inPostgresTransaction<Result>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<Result>,
): Promise<Result> {
  const client = await pool.connect();
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
