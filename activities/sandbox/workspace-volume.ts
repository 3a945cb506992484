import type Docker from 'dockerode';

import { SANDBOX_LABELS, sandboxVolumeName } from '../../common/sandbox';
import { ownerLabels } from './build-container-config';
import { dockerStatusCode } from './docker-status-code';
import type { SandboxOptions } from './sandbox-options';
import { WORKSPACE_DISK_LABEL, attachWorkspaceDisk, createWorkspaceDisk, releaseWorkspaceDisk } from './workspace-disk';
import type { WorkspaceDiskOptions } from './workspace-disk';

/**
 * The name of the volume that holds the session's `/workspace`, made when the session has none yet (on its own disk
 * image of the quota's size when `options.workspaceDisk` is set: see `createWorkspaceDisk`), and ready to mount: its
 * disk, if it has one, is attached (`attachWorkspaceDisk`), as a host reboot detaches it. It is the session's own
 * volume (`sandboxVolumeName`), unless that volume stands for the volume of a warm container the session claimed
 * (`SANDBOX_LABELS.workspaceVolume`): then that one, so a container started after an idle stop finds the files.
 */
export async function sessionWorkspaceVolume(
  options: Pick<SandboxOptions, 'docker' | 'owner' | 'workspaceDisk'>,
  sessionId: string,
): Promise<string> {
  const { docker } = options;
  const name = sandboxVolumeName(sessionId);
  let labels = await volumeLabels(docker, name);
  let madeDisk: string | undefined;
  if (labels === undefined) {
    const wanted = { ...ownerLabels(options), [SANDBOX_LABELS.session]: sessionId };
    madeDisk = await createVolumeIfMissing(docker, name, wanted, options.workspaceDisk);
    labels = (await volumeLabels(docker, name)) ?? {};
  }
  const target = labels[SANDBOX_LABELS.workspaceVolume];
  if (target === undefined) {
    // A disk this call has just made is attached already: one host program fewer per new session.
    if (madeDisk === undefined || labels[WORKSPACE_DISK_LABEL] !== madeDisk) await attachWorkspaceDisk(labels);
    return name;
  }
  await attachWorkspaceDisk(await volumeLabels(docker, target));
  return target;
}

/**
 * Records that the session's workspace is `volume` (a warm container's): creates the session's volume with a label that
 * points at it. Docker creates a volume name once, whoever asks, so of concurrent callers for one session only one
 * record is kept; `true` when it is this one, `false` when the session already had a workspace or another claim won.
 */
export async function bindWorkspaceVolume(
  options: Pick<SandboxOptions, 'docker' | 'owner'>,
  sessionId: string,
  volume: string,
): Promise<boolean> {
  const name = sandboxVolumeName(sessionId);
  await createVolumeIfMissing(options.docker, name, {
    ...ownerLabels(options),
    [SANDBOX_LABELS.session]: sessionId,
    [SANDBOX_LABELS.workspaceVolume]: volume,
  });
  return (await workspaceVolumeOf(options.docker, name)) === volume;
}

/**
 * Removes the session's workspace: the volume its own volume points at (with any container still on it, such as a warm
 * container whose claim was cut short), then its own volume. What is already gone is no error.
 */
export async function removeSessionWorkspace(docker: Docker, sessionId: string): Promise<void> {
  const name = sandboxVolumeName(sessionId);
  const target = await workspaceVolumeOf(docker, name).catch((error: unknown) => {
    if (dockerStatusCode(error) === 404) return undefined;
    throw error;
  });
  if (target !== undefined) await removeVolumeAndUsers(docker, target);
  await removeVolumeAndUsers(docker, name);
}

/** Force-removes the containers that mount `volume`, then the volume; what is already gone is no error. */
export async function removeVolumeAndUsers(docker: Docker, volume: string): Promise<void> {
  const users = await docker.listContainers({ all: true, filters: JSON.stringify({ volume: [volume] }) });
  for (const user of users) {
    await docker
      .getContainer(user.Id)
      .remove({ force: true })
      .catch((error: unknown) => {
        if (dockerStatusCode(error) !== 404) throw error;
      });
  }
  try {
    await removeVolumeAndDisk(docker, volume);
  } catch (error) {
    if (dockerStatusCode(error) !== 404) throw error;
  }
}

/**
 * Removes a volume, then its disk image if it has one (`WORKSPACE_DISK_LABEL`): the loop device is detached and the
 * image deleted. Docker's errors pass through (404 when the volume is gone, 409 while a container uses it), so the disk
 * of a volume that stays is never touched.
 */
export async function removeVolumeAndDisk(docker: Docker, volume: string): Promise<void> {
  const info = await docker.getVolume(volume).inspect();
  const labels = info.Labels as Record<string, string> | null | undefined;
  await docker.getVolume(volume).remove();
  await releaseWorkspaceDisk(labels?.[WORKSPACE_DISK_LABEL]);
}

/** The volume that `name` points at (`SANDBOX_LABELS.workspaceVolume`), or `undefined` when it is a workspace itself. */
async function workspaceVolumeOf(docker: Docker, name: string): Promise<string | undefined> {
  return (await volumeLabels(docker, name))?.[SANDBOX_LABELS.workspaceVolume];
}

/** A volume's labels (`{}` when it has none), or `undefined` when there is no such volume. */
async function volumeLabels(docker: Docker, name: string): Promise<Record<string, string> | undefined> {
  try {
    // Docker answers `null` for a volume with no labels, whatever the type says.
    const labels: Record<string, string> | null = (await docker.getVolume(name).inspect()).Labels;
    return labels ?? {};
  } catch (error) {
    if (dockerStatusCode(error) === 404) return undefined;
    throw error;
  }
}

/**
 * Creates a volume, on a disk image of its own when `disk` is given; one that exists keeps its labels and options
 * (Docker answers a repeated create with the existing volume). When a concurrent call made the volume without the disk
 * this call made (a warm claim's record), that disk is released again. Returns the image of the disk this call made
 * (attached) when the volume uses it.
 */
async function createVolumeIfMissing(
  docker: Docker,
  name: string,
  labels: Record<string, string>,
  disk?: WorkspaceDiskOptions,
): Promise<string | undefined> {
  const made = disk === undefined ? undefined : await createWorkspaceDisk(disk, name);
  try {
    await docker.createVolume({
      Name: name,
      Labels: { ...labels, ...made?.labels },
      ...(made === undefined ? {} : { Driver: 'local', DriverOpts: made.driverOptions }),
    });
  } catch (error) {
    if (dockerStatusCode(error) !== 409) throw error;
  }
  const image = made?.labels[WORKSPACE_DISK_LABEL];
  if (image === undefined) return undefined;
  if ((await volumeLabels(docker, name))?.[WORKSPACE_DISK_LABEL] === image) return image;
  await releaseWorkspaceDisk(image);
  return undefined;
}
