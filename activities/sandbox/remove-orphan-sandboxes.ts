import type Docker from 'dockerode';
import { SANDBOX_LABELS, sandboxContainerName } from '../../common/sandbox';
import { ignoringGone } from './ignoring-gone';
import { removeStaleWarmSandboxes } from './remove-stale-warm-sandboxes';
import { removeVolumeAndDisk } from './workspace-volume';

/** What `removeOrphanSandboxes` removed, by session id, and how many warm containers whose worker was gone. */
export interface RemovedOrphans {
  sessions: string[];
  /** Every container removed, warm ones included. */
  containers: number;
  /** Every volume removed, warm ones included. */
  volumes: number;
  warmContainers: number;
}

/**
 * Removes the containers and workspace volumes of `cluster`'s sessions that no longer run (ended, deleted, or unknown
 * to Temporal): what a worker that crashed, or was stopped before a session's end reached it, left behind. A session
 * whose state cannot be read (`isRunning` throws) is left alone. A session that claimed a warm container loses it too
 * (found by the session's container name, since its labels predate the session) and the volume its workspace volume
 * points at; a volume's disk image (`KEEL_SANDBOX_DISK_QUOTA`) goes with it. Then the warm containers that lost their
 * worker, and the warm volumes nothing uses or points at, go too (see `removeStaleWarmSandboxes`).
 */
export async function removeOrphanSandboxes(
  docker: Docker,
  cluster: string,
  isRunning: (sessionId: string) => Promise<boolean>,
): Promise<RemovedOrphans> {
  const filters = { label: [`${SANDBOX_LABELS.cluster}=${cluster}`] };
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify(filters) });
  const { Volumes: volumes } = await docker.listVolumes({ filters: JSON.stringify(filters) });
  const sessionOf = (labels: Record<string, string> | null | undefined): string | undefined =>
    labels?.[SANDBOX_LABELS.session];
  const sessions = new Set(
    [
      ...containers.map((container) => sessionOf(container.Labels)),
      ...volumes.map((volume) => sessionOf(volume.Labels)),
    ].filter((id): id is string => id !== undefined),
  );
  const removed: RemovedOrphans = { sessions: [], containers: 0, volumes: 0, warmContainers: 0 };
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
    if (await ignoringGone(() => docker.getContainer(sandboxContainerName(sessionId)).remove({ force: true }))) {
      removed.containers += 1;
    }
    for (const volume of volumes.filter((candidate) => sessionOf(candidate.Labels) === sessionId)) {
      const target = (volume.Labels as Record<string, string> | null)?.[SANDBOX_LABELS.workspaceVolume];
      if (target !== undefined && (await ignoringGone(() => removeVolumeAndDisk(docker, target)))) removed.volumes += 1;
      if (await ignoringGone(() => removeVolumeAndDisk(docker, volume.Name))) removed.volumes += 1;
    }
  }
  const warm = await removeStaleWarmSandboxes(docker, cluster);
  removed.warmContainers = warm.containers;
  removed.containers += warm.containers;
  removed.volumes += warm.volumes;
  return removed;
}
