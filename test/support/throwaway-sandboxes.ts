import Docker from 'dockerode';
import { SANDBOX_LABELS, sandboxClusterLabel } from '../../common/sandbox';
import { ignoringGone } from '../../activities/sandbox/ignoring-gone';
import { removeVolumeAndDisk } from '../../activities/sandbox/workspace-volume';

/**
 * Removes every container and volume (with its workspace disk image) that Keel made for the sessions and warm pools of
 * a throw-away cluster: a test's or a benchmark's dev server, whose sessions all went with it. Call it once the
 * cluster's workers have stopped. Without it, each run leaves its sandboxes behind, and an engine restarted with
 * hundreds of them takes minutes to start (or, at dockerd's own containerd timeout, does not).
 */
export async function removeThrowawaySandboxes(
  namespace: string,
  temporalAddress: string,
  docker: Docker = new Docker(),
): Promise<{ containers: number; volumes: number }> {
  const filters = JSON.stringify({
    label: [`${SANDBOX_LABELS.cluster}=${sandboxClusterLabel(namespace, temporalAddress)}`],
  });
  const removed = { containers: 0, volumes: 0 };
  for (const container of await docker.listContainers({ all: true, filters })) {
    if (await ignoringGone(() => docker.getContainer(container.Id).remove({ force: true }))) removed.containers += 1;
  }
  // Containers first: Docker refuses to remove a volume a container still uses.
  const { Volumes: volumes } = await docker.listVolumes({ filters });
  for (const volume of volumes) {
    if (await ignoringGone(() => removeVolumeAndDisk(docker, volume.Name))) removed.volumes += 1;
  }
  return removed;
}
