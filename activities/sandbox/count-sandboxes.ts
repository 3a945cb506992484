import type Docker from 'dockerode';
import { SANDBOX_LABELS } from '../../common/sandbox';
import { WARM_CONTAINER_PREFIX } from './warm-container';

/** A worker's sandbox containers by state. */
export interface OwnSandboxCounts {
  /** Running and claimed by a session. */
  running: number;
  /** Running in the warm pool, not claimed yet. */
  warm: number;
  /** Not running (stopped after the idle timeout, or made and not started). */
  stopped: number;
}

/** Counts the sandbox containers labelled as `worker`'s (`SANDBOX_LABELS.worker`), by state, in one Docker call. */
export async function countOwnSandboxes(docker: Docker, worker: string): Promise<OwnSandboxCounts> {
  const filters = JSON.stringify({ label: [`${SANDBOX_LABELS.worker}=${worker}`] });
  const counts: OwnSandboxCounts = { running: 0, warm: 0, stopped: 0 };
  for (const container of await docker.listContainers({ all: true, filters })) {
    const unclaimed = container.Names.some((name) => name.startsWith(`/${WARM_CONTAINER_PREFIX}`));
    if (container.State !== 'running') counts.stopped += 1;
    else if (unclaimed) counts.warm += 1;
    else counts.running += 1;
  }
  return counts;
}
