import type Docker from 'dockerode';

import { SANDBOX_LABELS, sandboxVolumeName } from '../../common/sandbox';
import { ownerLabels } from './build-container-config';
import { dockerStatusCode } from './docker-status-code';
import type { SandboxOptions } from './sandbox-options';

/**
 * The name of the volume that holds the session's `/workspace`, made when the session has none yet. It is the
 * session's own volume (`sandboxVolumeName`), unless that volume stands for the volume of a warm container the session
 * claimed (`SANDBOX_LABELS.workspaceVolume`): then that one, so a container started after an idle stop finds the files.
 */
export async function sessionWorkspaceVolume(
  options: Pick<SandboxOptions, 'docker' | 'owner'>,
  sessionId: string,
): Promise<string> {
  const name = sandboxVolumeName(sessionId);
  await createVolumeIfMissing(options.docker, name, { ...ownerLabels(options), [SANDBOX_LABELS.session]: sessionId });
  return (await workspaceVolumeOf(options.docker, name)) ?? name;
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
    await docker.getVolume(volume).remove();
  } catch (error) {
    if (dockerStatusCode(error) !== 404) throw error;
  }
}

/** The volume that `name` points at (`SANDBOX_LABELS.workspaceVolume`), or `undefined` when it is a workspace itself. */
async function workspaceVolumeOf(docker: Docker, name: string): Promise<string | undefined> {
  const info = await docker.getVolume(name).inspect();
  const labels = info.Labels as Record<string, string> | null | undefined;
  return labels?.[SANDBOX_LABELS.workspaceVolume];
}

/** Creates a volume; one that exists keeps its labels (Docker answers a repeated create with the existing volume). */
async function createVolumeIfMissing(docker: Docker, name: string, labels: Record<string, string>): Promise<void> {
  try {
    await docker.createVolume({ Name: name, Labels: labels });
  } catch (error) {
    if (dockerStatusCode(error) !== 409) throw error;
  }
}
