import type { DestroySandboxInput } from '../../common/sandbox';
import { sandboxContainerName, sandboxVolumeName } from '../../common/sandbox';
import { dockerStatusCode } from './docker-status-code';
import type { SandboxOptions } from './sandbox-options';

/** Force-removes a session's container and, when asked, its workspace volume; what is already gone is no error. */
export async function destroySandbox(options: SandboxOptions, input: DestroySandboxInput): Promise<void> {
  try {
    await options.docker.getContainer(sandboxContainerName(input.sessionId)).remove({ force: true });
  } catch (error) {
    if (dockerStatusCode(error) !== 404) throw error;
  }
  if (!input.removeVolume) return;
  try {
    await options.docker.getVolume(sandboxVolumeName(input.sessionId)).remove();
  } catch (error) {
    if (dockerStatusCode(error) !== 404) throw error;
  }
}
