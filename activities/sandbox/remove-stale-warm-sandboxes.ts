import type Docker from 'dockerode';
import { SANDBOX_LABELS } from '../../common/sandbox';
import { ignoringGone } from './ignoring-gone';
import { WARM_CONTAINER_PREFIX } from './warm-container';
import { removeVolumeAndDisk } from './workspace-volume';

/** A warm container still being made (created, not yet started) is left alone this long. */
const STARTING_GRACE_SECONDS = 60;

/**
 * Removes what warm pools of `cluster` left behind: the warm containers no session claimed whose worker is gone (their
 * watcher stopped them when it went: see `startWarmContainer`; a live worker's are running and stay), then the warm
 * volumes that no container uses and no session's workspace volume points at (Docker refuses to remove a volume in
 * use, so a live pool's are safe), with their disk images. Returns how many of each went.
 */
export async function removeStaleWarmSandboxes(
  docker: Docker,
  cluster: string,
): Promise<{ containers: number; volumes: number }> {
  const warm = { label: [`${SANDBOX_LABELS.cluster}=${cluster}`, SANDBOX_LABELS.warm] };
  const removed = { containers: 0, volumes: 0 };
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify(warm) });
  const nowSeconds = Date.now() / 1000;
  for (const container of containers) {
    const unclaimed = container.Names.some((name) => name.startsWith(`/${WARM_CONTAINER_PREFIX}`));
    const starting = container.State === 'created' && nowSeconds - container.Created < STARTING_GRACE_SECONDS;
    if (!unclaimed || container.State === 'running' || starting) continue;
    if (await ignoringGone(() => docker.getContainer(container.Id).remove({ force: true }))) removed.containers += 1;
  }
  const pointing = { label: [`${SANDBOX_LABELS.cluster}=${cluster}`, SANDBOX_LABELS.workspaceVolume] };
  const { Volumes: pointers } = await docker.listVolumes({ filters: JSON.stringify(pointing) });
  const bound = new Set(
    pointers.map((pointer) => (pointer.Labels as Record<string, string> | null)?.[SANDBOX_LABELS.workspaceVolume]),
  );
  const { Volumes: volumes } = await docker.listVolumes({ filters: JSON.stringify(warm) });
  for (const volume of volumes) {
    if (bound.has(volume.Name)) continue;
    if (await ignoringGone(() => removeVolumeAndDisk(docker, volume.Name))) removed.volumes += 1;
  }
  return removed;
}
