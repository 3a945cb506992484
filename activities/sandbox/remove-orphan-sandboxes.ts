import type Docker from 'dockerode';
import { SANDBOX_LABELS } from '../../common/sandbox';
import { dockerStatusCode } from './docker-status-code';

/** What `removeOrphanSandboxes` removed, by session id. */
export interface RemovedOrphans {
  sessions: string[];
  containers: number;
  volumes: number;
}

/**
 * Removes the containers and workspace volumes of `cluster`'s sessions that no longer run (ended, deleted, or unknown
 * to Temporal): what a worker that crashed, or was stopped before a session's end reached it, left behind. A session
 * whose state cannot be read (`isRunning` throws) is left alone.
 */
export async function removeOrphanSandboxes(
  docker: Docker,
  cluster: string,
  isRunning: (sessionId: string) => Promise<boolean>,
): Promise<RemovedOrphans> {
  const filters = { label: [`${SANDBOX_LABELS.cluster}=${cluster}`] };
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify(filters) });
  const { Volumes: volumes } = await docker.listVolumes({ filters: JSON.stringify(filters) });
  const sessionOf = (labels: Record<string, string> | undefined): string | undefined =>
    labels?.[SANDBOX_LABELS.session];
  const sessions = new Set(
    [
      ...containers.map((container) => sessionOf(container.Labels)),
      ...volumes.map((volume) => sessionOf(volume.Labels)),
    ].filter((id): id is string => id !== undefined),
  );
  const removed: RemovedOrphans = { sessions: [], containers: 0, volumes: 0 };
  for (const sessionId of sessions) {
    let running: boolean;
    try {
      running = await isRunning(sessionId);
    } catch {
      continue;
    }
    if (running) continue;
    removed.sessions.push(sessionId);
    for (const container of containers.filter((candidate) => sessionOf(candidate.Labels) === sessionId)) {
      if (await ignoringGone(() => docker.getContainer(container.Id).remove({ force: true }))) removed.containers += 1;
    }
    for (const volume of volumes.filter((candidate) => sessionOf(candidate.Labels) === sessionId)) {
      if (await ignoringGone(() => docker.getVolume(volume.Name).remove())) removed.volumes += 1;
    }
  }
  return removed;
}

/** Runs a removal; `false` when the thing was gone already (404) or is being removed (409). */
async function ignoringGone(remove: () => Promise<unknown>): Promise<boolean> {
  try {
    await remove();
    return true;
  } catch (error) {
    const status = dockerStatusCode(error);
    if (status === 404 || status === 409) return false;
    throw error;
  }
}
