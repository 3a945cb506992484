import { EnvironmentSecretReader } from '../activities/credentials/environment-secret-reader';
import { PostgresCredentialRows } from '../activities/credentials/postgres-credential-rows';
import { PostgresRepositoryTokenReader } from '../activities/credentials/postgres-repository-token-reader';
import {
  credentialStoreFile,
  SqliteCredentialResolver,
  SqliteCredentialRows,
} from '../activities/credentials/sqlite-credential-resolver';
import { SqliteRepositoryTokenReader } from '../activities/credentials/sqlite-repository-token-reader';
import { VaultCredentialResolver } from '../activities/credentials/vault-credential-resolver';
import { openWorkerPostgresPool } from '../activities/postgres-control-plane';
import { PostgresWorkQueue } from '../activities/self-hosted/postgres-work-queue';
import { SqliteWorkQueue } from '../activities/self-hosted/sqlite-work-queue';
import type { SelfHostedWorkQueue } from '../activities/self-hosted/sqlite-work-queue';
import type { DatabaseConfig } from '../common/config';
import type { CredentialResolver, EnvironmentSecretResolver, RepositoryTokenReader } from '../common/credentials';
import type { SessionMemoryRows } from '../common/memory';
import { PostgresMemoryRows } from '../activities/memory/postgres-memory-rows';
import { SqliteMemoryRows } from '../activities/memory/sqlite-memory-rows';
import type { SessionSkillRows } from '../common/skills';
import { PostgresSkillRows } from '../activities/skills/postgres-skill-rows';
import { SqliteSkillRows } from '../activities/skills/sqlite-skill-rows';

/** What the worker's Activities read from (and, for the work queue, write to) the server's control-plane store. */
export interface WorkerControlPlane {
  credentials: CredentialResolver;
  /** `environment_variable` credentials: placeholders for sandboxes, secrets for the egress proxy. */
  environmentSecrets: EnvironmentSecretResolver;
  repositoryTokens: RepositoryTokenReader;
  workQueue: SelfHostedWorkQueue;
  /** The memory stores sessions mount: read into sandboxes, and written back from them. */
  memory: SessionMemoryRows;
  /** The custom skills sessions mount: their files are bind-mounted read-only into sandboxes. */
  skills: SessionSkillRows;
  /** Closes the connections. */
  close(): Promise<void>;
}

/**
 * The worker's view of the control-plane store the server writes: the SQLite file in `dataDir`, or the PostgreSQL
 * database of `KEEL_DATABASE_URL` (one small pool for all three). Secrets in it are sealed with `secretKey`.
 */
export function openWorkerControlPlane(
  database: DatabaseConfig,
  dataDir: string,
  secretKey: Uint8Array,
): WorkerControlPlane {
  if (database.kind === 'postgres') {
    const pool = openWorkerPostgresPool(database.url);
    return {
      credentials: new VaultCredentialResolver({ rows: new PostgresCredentialRows(pool), secretKey }),
      environmentSecrets: new EnvironmentSecretReader({ rows: new PostgresCredentialRows(pool), secretKey }),
      repositoryTokens: new PostgresRepositoryTokenReader(pool, secretKey),
      workQueue: new PostgresWorkQueue(pool),
      memory: new PostgresMemoryRows(pool),
      skills: new PostgresSkillRows(pool),
      close: () => pool.end(),
    };
  }
  const filename = credentialStoreFile(dataDir);
  const credentials = new SqliteCredentialResolver({ filename, secretKey });
  const environmentSecrets = new EnvironmentSecretReader({ rows: new SqliteCredentialRows(filename), secretKey });
  const repositoryTokens = new SqliteRepositoryTokenReader({ filename, secretKey });
  const workQueue = new SqliteWorkQueue(filename);
  const memory = new SqliteMemoryRows(filename);
  const skills = new SqliteSkillRows(filename);
  return {
    credentials,
    environmentSecrets,
    repositoryTokens,
    workQueue,
    memory,
    skills,
    close: () => {
      credentials.close();
      environmentSecrets.close();
      repositoryTokens.close();
      workQueue.close();
      memory.close();
      skills.close();
      return Promise.resolve();
    },
  };
}
