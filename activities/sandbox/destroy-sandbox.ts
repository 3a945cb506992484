import type { DestroySandboxInput } from '../../common/sandbox';
import { sandboxContainerName } from '../../common/sandbox';
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
  if (input.removeVolume) await removeSessionWorkspace(options.docker, input.sessionId);
}
