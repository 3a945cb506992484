import type { DatabaseConfig } from '../../common/config';
import type { ControlPlaneStore } from './control-plane-store';
import { openPostgresStore } from './open-postgres-store';
import { openSqliteStore, storeFilePath } from './open-sqlite-store';

/**
 * Opens the configured control-plane store: PostgreSQL when `KEEL_DATABASE_URL` is set, else the SQLite file in the
 * data folder `dataDir`. Either is migrated on open.
 */
export async function openControlPlaneStore(database: DatabaseConfig, dataDir: string): Promise<ControlPlaneStore> {
  if (database.kind === 'postgres') return openPostgresStore({ url: database.url });
  return openSqliteStore({ filename: storeFilePath(dataDir) });
}
