import type { ControlPlaneStore } from './control-plane-store';
import type { Migration } from './migrations';
import { PostgresAgentRepository } from './postgres-agent-repository';
import { PostgresApiKeyRepository } from './postgres-api-key-repository';
import { PostgresWorkspaceRepository } from './postgres-workspace-repository';
import { PostgresCredentialRepository } from './postgres-credential-repository';
import { openPostgresDatabase } from './postgres-database';
import { PostgresEnvironmentRepository } from './postgres-environment-repository';
import { PostgresFileRepository } from './postgres-file-repository';
import { PostgresRepositoryTokenRepository } from './postgres-repository-token-repository';
import { PostgresVaultRepository } from './postgres-vault-repository';
import { PostgresWorkRepository } from './postgres-work-repository';
import { PostgresMemoryStoreRepository } from './postgres-memory-store-repository';
import { PostgresSkillRepository } from './postgres-skill-repository';
import { PostgresDreamRepository } from './postgres-dream-repository';
import { PostgresDeploymentRepository, PostgresDeploymentRunRepository } from './postgres-deployment-repository';

/** The PostgreSQL control-plane store, with what opening it did. */
export interface PostgresStore extends ControlPlaneStore {
  /** Migration versions applied by this open (empty when the database was already up to date). */
  readonly appliedMigrations: number[];
}

/**
 * Opens the control-plane store on PostgreSQL (`KEEL_DATABASE_URL`), migrated on every open: the store every server
 * and worker of a multi-machine Keel shares. `migrations` exists for tests of the migration mechanism.
 */
export async function openPostgresStore(options: {
  url: string;
  maxConnections?: number;
  migrations?: readonly Migration[];
}): Promise<PostgresStore> {
  const { database, appliedMigrations } = await openPostgresDatabase(options);
  return {
    agents: new PostgresAgentRepository(database),
    environments: new PostgresEnvironmentRepository(database),
    files: new PostgresFileRepository(database),
    apiKeys: new PostgresApiKeyRepository(database),
    workspaces: new PostgresWorkspaceRepository(database),
    vaults: new PostgresVaultRepository(database),
    credentials: new PostgresCredentialRepository(database),
    repositoryTokens: new PostgresRepositoryTokenRepository(database),
    work: new PostgresWorkRepository(database),
    memoryStores: new PostgresMemoryStoreRepository(database),
    skills: new PostgresSkillRepository(database),
    dreams: new PostgresDreamRepository(database),
    deployments: new PostgresDeploymentRepository(database),
    deploymentRuns: new PostgresDeploymentRunRepository(database),
    appliedMigrations,
    close: () => database.close(),
  };
}
