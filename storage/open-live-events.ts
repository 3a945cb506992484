import type { DatabaseConfig } from '../common/config';
import { LiveEventBus } from '../common/live-events';
import type { LiveEvents } from '../common/live-events';
import { PostgresLiveEvents } from './postgres-live-events';

/**
 * The live events of one process: with PostgreSQL (`KEEL_DATABASE_URL`), the `LISTEN/NOTIFY` channel every worker
 * and server of the Keel shares (`listen`: this process has streams to feed); otherwise the in-process bus, which
 * reaches every worker only when this process runs the one worker (`keel up`).
 */
export async function openLiveEvents(
  database: DatabaseConfig,
  options: { listen: boolean; workerInProcess: boolean; log?: (line: string) => void },
): Promise<LiveEvents> {
  if (database.kind === 'postgres') {
    return PostgresLiveEvents.open({
      url: database.url,
      listen: options.listen,
      ...(options.log === undefined ? {} : { log: options.log }),
    });
  }
  return new LiveEventBus({ reachesEveryWorker: options.workerInProcess });
}
