import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findFreePort } from '../../cli/temporal-dev-server';
import { PROJECT_ROOT } from '../../common/config';

const run = promisify(execFile);

/** Where `scripts/setup/postgresql.sh` writes the folder that holds `initdb`, `pg_ctl` and `postgres`. */
const BIN_DIR_FILE = path.join(PROJECT_ROOT, '.keel', 'tools', 'postgresql-bin');

/** A private PostgreSQL cluster on loopback, for one test file. */
export interface PrivatePostgres {
  /** `postgres://keel:…@127.0.0.1:<port>/<database>` of the cluster's first database. */
  url: string;
  /** A fresh, empty database of this cluster (each store test gets its own). */
  createDatabase(): Promise<string>;
  /** Everything the server logged, for a failing test's message. */
  output(): string;
  /** Stops the cluster (fast shutdown) and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts a PostgreSQL cluster with `initdb` and `pg_ctl` in a fresh temporary folder, on a free port of 127.0.0.1 with
 * no Unix socket outside that folder, with one password-authenticated role `keel`. As root it runs as the system user
 * `postgres` (initdb refuses root). Fails (never skips) when the binaries are missing: `npm test`'s set-up installs
 * them.
 */
export async function startPostgres(): Promise<PrivatePostgres> {
  if (!existsSync(BIN_DIR_FILE)) {
    throw new Error(`PostgreSQL is not set up (${BIN_DIR_FILE} is missing): run npm run setup -- --tests`);
  }
  const binDir = readFileSync(BIN_DIR_FILE, 'utf8').trim();
  const folder = mkdtempSync(path.join(tmpdir(), 'keel-postgres-'));
  const dataDir = path.join(folder, 'data');
  const logFile = path.join(folder, 'server.log');
  const password = randomBytes(18).toString('base64url');
  const passwordFile = path.join(folder, 'password');
  writeFileSync(passwordFile, password);
  const port = await findFreePort();
  const asUser = await unprivilegedUser(folder);
  const command = (program: string, args: string[]): Promise<unknown> =>
    asUser === null
      ? run(path.join(binDir, program), args)
      : run('runuser', ['-u', asUser, '--', path.join(binDir, program), ...args]);

  const stop = async (): Promise<void> => {
    if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
      await command('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w']).catch(() => undefined);
    }
    rmSync(folder, { recursive: true, force: true });
  };
  const output = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-16_000) : '');
  try {
    await command('initdb', [
      '-D',
      dataDir,
      '-U',
      'keel',
      '--pwfile',
      passwordFile,
      '--auth',
      'scram-sha-256',
      '--encoding',
      'UTF8',
      '--locale',
      'C',
      '--no-sync',
    ]);
    // Loopback TCP only; the socket in the cluster's own folder; fsync off (a test cluster dies with its test).
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${folder} -c fsync=off -c max_connections=200`;
    await command('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options]);
  } catch (error) {
    const log = output();
    await stop();
    throw new Error(`could not start a private PostgreSQL: ${(error as Error).message}\n${log}`, { cause: error });
  }
  const url = `postgres://keel:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    createDatabase: async () => {
      const name = `keel_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://keel:${password}@127.0.0.1:${port}/${name}`;
    },
    output,
    stop,
  };
}

/** As root: `postgres`, after handing it `folder`; otherwise `null` (run as this user). */
async function unprivilegedUser(folder: string): Promise<string | null> {
  if (process.getuid?.() !== 0) return null;
  const { stdout } = (await run('id', ['-u', 'postgres']).catch(() => {
    throw new Error('initdb refuses to run as root and there is no user postgres: run npm run setup -- --tests');
  })) as { stdout: string };
  const { stdout: group } = (await run('id', ['-g', 'postgres'])) as { stdout: string };
  chownSync(folder, Number(stdout.trim()), Number(group.trim()));
  chownSync(path.join(folder, 'password'), Number(stdout.trim()), Number(group.trim()));
  return 'postgres';
}
