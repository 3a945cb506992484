import type Docker from 'dockerode';

import { dockerStatusCode } from './docker-status-code';

/** Says why a container cannot run commands (`undefined` while it runs), in words the model can read. */
export async function describeStoppedContainer(docker: Docker, containerId: string): Promise<string | undefined> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await docker.getContainer(containerId).inspect();
  } catch (error) {
    if (dockerStatusCode(error) === 404) return 'the container was removed';
    throw error;
  }
  const state = info.State;
  if (state.Running && !state.Paused) return undefined;
  if (state.Paused) return 'the container is paused';
  // Docker sets OOMKilled when any process of the container was killed for memory, not only the main one.
  const memory = state.OOMKilled ? ', an out-of-memory kill was recorded' : '';
  return `${state.Status}, exit code ${state.ExitCode}${memory}`;
}
