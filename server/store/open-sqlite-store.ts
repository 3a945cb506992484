import path from 'node:path';
import type { ControlPlaneStore } from './control-plane-store';
import type { Migration } from './migrations';
import { SqliteAgentRepository } from './sqlite-agent-repository';
import { SqliteApiKeyRepository } from './sqlite-api-key-repository';
import { SqliteWorkspaceRepository } from './sqlite-workspace-repository';
import { SqliteCredentialRepository } from './sqlite-credential-repository';
import { openSqliteDatabase } from './sqlite-database';
import { SqliteEnvironmentRepository } from './sqlite-environment-repository';
import { SqliteFileRepository } from './sqlite-file-repository';
import { SqliteRepositoryTokenRepository } from './sqlite-repository-token-repository';
import { SqliteWorkRepository } from './sqlite-work-repository';
import { SqliteVaultRepository } from './sqlite-vault-repository';
import { SqliteMemoryStoreRepository } from './sqlite-memory-store-repository';
import { SqliteSkillRepository } from './sqlite-skill-repository';
import { SqliteDreamRepository } from './sqlite-dream-repository';
import { SqliteDeploymentRepository, SqliteDeploymentRunRepository } from './sqlite-deployment-repository';

/** The name of the embedded store's file inside `KEEL_DATA_DIR`. */
export const STORE_FILE_NAME = 'keel.sqlite';

/** The path of the embedded store's file in the data folder `dataDir`. */
export function storeFilePath(dataDir: string): string {
  return path.join(dataDir, STORE_FILE_NAME);
}

/** The embedded control-plane store, with what opening it did. */
export interface SqliteStore extends ControlPlaneStore {
  /** Migration versions applied by this open (empty when the file was already up to date). */
  readonly appliedMigrations: number[];
}

/**
 * Opens the embedded control-plane store: a SQLite file (created on first use, migrated on every open) shared safely
 * by the processes of one machine. `migrations` exists for tests of the migration mechanism.
 */
export function openSqliteStore(options: { filename: string; migrations?: readonly Migration[] }): SqliteStore {
  const { database, appliedMigrations } = openSqliteDatabase(options.filename, options.migrations);
  return {
    agents: new SqliteAgentRepository(database),
    environments: new SqliteEnvironmentRepository(database),
    files: new SqliteFileRepository(database),
    apiKeys: new SqliteApiKeyRepository(database),
    workspaces: new SqliteWorkspaceRepository(database),
    vaults: new SqliteVaultRepository(database),
    credentials: new SqliteCredentialRepository(database),
    repositoryTokens: new SqliteRepositoryTokenRepository(database),
    work: new SqliteWorkRepository(database),
    memoryStores: new SqliteMemoryStoreRepository(database),
    skills: new SqliteSkillRepository(database),
    dreams: new SqliteDreamRepository(database),
    deployments: new SqliteDeploymentRepository(database),
    deploymentRuns: new SqliteDeploymentRunRepository(database),
    appliedMigrations,
    close: () =>
      new Promise((resolve) => {
        if (database.open) database.close();
        resolve();
      }),
  };
}
