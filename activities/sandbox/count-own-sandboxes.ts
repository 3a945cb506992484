import type Docker from 'dockerode';
import { SANDBOX_LABELS } from '../../common/sandbox';
import { WARM_CONTAINER_PREFIX } from './warm-container';

/** The sandbox containers a worker created, by state. */
export interface OwnSandboxCounts {
  /** Running and claimed by a session. */
  running: number;
  /** Running in the warm pool, not claimed yet. */
  warm: number;
  /** Not running (stopped after the idle timeout, or made and not started). */
  stopped: number;
}

/**
 * Counts the sandbox containers `worker` created (labelled `SANDBOX_LABELS.worker`; a label never changes, so a
 * session's container counts under the worker that made it even when another one drives it now), by state, in one
 * Docker call.
 */
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
