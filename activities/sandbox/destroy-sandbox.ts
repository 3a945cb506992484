import type { DestroySandboxInput } from '../../common/sandbox';
import { memoryVolumeName, sandboxContainerName } from '../../common/sandbox';
import { dockerStatusCode } from './docker-status-code';
import type { SandboxOptions } from './sandbox-options';
import { removeSessionWorkspace } from './workspace-volume';

/**
 * Force-removes a session's container and, when asked, its workspace (the volume of a claimed warm container too: see
 * `removeSessionWorkspace`); what is already gone is no error.
 */
export async function destroySandbox(options: SandboxOptions, input: DestroySandboxInput): Promise<void> {
  try {
    await options.docker.getContainer(sandboxContainerName(input.sessionId)).remove({ force: true });
  } catch (error) {
    if (dockerStatusCode(error) !== 404) throw error;
  }
  if (input.removeVolume) {
    await removeSessionWorkspace(options.docker, input.sessionId);
    await removeMemoryVolume(options, input.sessionId);
  }
}

/** Removes a session's memory volume (its stores' copy, which the stores themselves outlive) unless a container uses it. */
export async function removeMemoryVolume(options: Pick<SandboxOptions, 'docker'>, sessionId: string): Promise<void> {
  try {
    await options.docker.getVolume(memoryVolumeName(sessionId)).remove();
  } catch (error) {
    // 404: already gone; 409: a container a concurrent provisioning just made uses it (and keeps it).
    const status = dockerStatusCode(error);
    if (status !== 404 && status !== 409) throw error;
  }
}
