import type {
  DeploymentRepository,
  DeploymentRunRepository,
  StoredDeployment,
  StoredDeploymentRun,
} from './control-plane-store';
import { PostgresArchivableTable } from './postgres-archivable-table';
import type { PostgresArchivableRow } from './postgres-archivable-table';
import type { PostgresDatabase } from './postgres-database';
import { runRecord, toStoredDeployment, toStoredDeploymentRun } from './sqlite-deployment-repository';

/** A row of the `deployments` table. */
export interface PostgresDeploymentRow extends PostgresArchivableRow {
  definition: string;
}

/** A row of the `deployment_runs` table. */
export interface PostgresDeploymentRunRow extends PostgresArchivableRow {
  deployment_id: string;
  session_id: string | null;
  record: string;
}

/** Deployments in PostgreSQL: one row each, their fields one JSON document. */
export class PostgresDeploymentRepository
  extends PostgresArchivableTable<StoredDeployment, PostgresDeploymentRow>
  implements DeploymentRepository
{
  constructor(database: PostgresDatabase) {
    super(database, {
      table: 'deployments',
      columns: ['definition'],
      toValues: (deployment) => [JSON.stringify(deployment.definition)],
      fromRow: toStoredDeployment,
    });
  }
}

/** Deployment runs in PostgreSQL: one row each, written once. */
export class PostgresDeploymentRunRepository
  extends PostgresArchivableTable<StoredDeploymentRun, PostgresDeploymentRunRow>
  implements DeploymentRunRepository
{
  constructor(database: PostgresDatabase) {
    super(database, {
      table: 'deployment_runs',
      columns: ['deployment_id', 'session_id', 'record'],
      toValues: (run) => [run.deploymentId, run.sessionId, runRecord(run)],
      fromRow: toStoredDeploymentRun,
    });
  }
}
