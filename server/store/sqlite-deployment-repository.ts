import type { Database } from 'better-sqlite3';
import type {
  DeploymentDefinition,
  DeploymentRepository,
  DeploymentRunRepository,
  StoredDeployment,
  StoredDeploymentRun,
} from './control-plane-store';
import { SqliteArchivableTable } from './sqlite-archivable-table';
import type { ArchivableRow } from './sqlite-archivable-table';

/** A row of the `deployments` table (migration 11). */
export interface DeploymentRow extends ArchivableRow {
  definition: string;
}

/** A row of the `deployment_runs` table (migration 11): the run's fields beyond its columns are in `record`. */
export interface DeploymentRunRow extends ArchivableRow {
  deployment_id: string;
  session_id: string | null;
  record: string;
}

/** Deployments in SQLite: one row each, their fields one JSON document. */
export class SqliteDeploymentRepository
  extends SqliteArchivableTable<StoredDeployment, DeploymentRow>
  implements DeploymentRepository
{
  constructor(database: Database) {
    super(database, {
      table: 'deployments',
      columns: { definition: 'definition' },
      toParameters: (deployment) => ({
        id: deployment.id,
        workspaceId: deployment.workspaceId,
        createdAt: deployment.createdAt,
        updatedAt: deployment.updatedAt,
        archivedAt: deployment.archivedAt,
        definition: JSON.stringify(deployment.definition),
      }),
      fromRow: toStoredDeployment,
    });
  }
}

/** Deployment runs in SQLite: one row each, written once. */
export class SqliteDeploymentRunRepository
  extends SqliteArchivableTable<StoredDeploymentRun, DeploymentRunRow>
  implements DeploymentRunRepository
{
  constructor(database: Database) {
    super(database, {
      table: 'deployment_runs',
      columns: { deployment_id: 'deploymentId', session_id: 'sessionId', record: 'record' },
      toParameters: (run) => ({
        id: run.id,
        workspaceId: run.workspaceId,
        createdAt: run.createdAt,
        updatedAt: run.updatedAt,
        archivedAt: null,
        deploymentId: run.deploymentId,
        sessionId: run.sessionId,
        record: runRecord(run),
      }),
      fromRow: toStoredDeploymentRun,
    });
  }
}

/** The JSON `record` column of a run: its fields that have no column of their own. */
export function runRecord(run: StoredDeploymentRun): string {
  return JSON.stringify({ agent: run.agent, error: run.error, trigger_context: run.triggerContext });
}

/** A deployment read from its row (the PostgreSQL store's rows have the same columns). */
export function toStoredDeployment(row: Omit<DeploymentRow, 'sequence'>): StoredDeployment {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: row.archived_at,
    definition: JSON.parse(row.definition) as DeploymentDefinition,
  };
}

/** A deployment run read from its row (the PostgreSQL store's rows have the same columns). */
export function toStoredDeploymentRun(row: Omit<DeploymentRunRow, 'sequence'>): StoredDeploymentRun {
  const record = JSON.parse(row.record) as {
    agent: StoredDeploymentRun['agent'];
    error: StoredDeploymentRun['error'];
    trigger_context: StoredDeploymentRun['triggerContext'];
  };
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: null,
    deploymentId: row.deployment_id,
    agent: record.agent,
    sessionId: row.session_id,
    error: record.error,
    triggerContext: record.trigger_context,
  };
}
