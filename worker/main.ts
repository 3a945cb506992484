import { worker } from '../cli/worker';
import { readConfig } from '../common/config';

/** The standalone worker process, as `keel worker` runs it (kept as an entry point of its own for tests). */
worker(readConfig()).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
