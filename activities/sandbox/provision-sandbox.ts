import { FAILURE_TYPES } from '../../common/failures';
import { setTimeout as sleep } from 'node:timers/promises';

import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';

import type { ProvisionSandboxInput, ProvisionSandboxResult, SandboxFileMount } from '../../common/sandbox';
import { SANDBOX_LABELS, sandboxContainerName, sandboxVolumeName } from '../../common/sandbox';
import { buildContainerConfig } from './build-container-config';
import { dockerStatusCode } from './docker-status-code';
import type { SandboxOptions } from './sandbox-options';

/** The `ApplicationFailure` type raised when the sandbox image does not exist: a retry cannot fix it. */
export const SANDBOX_IMAGE_MISSING_FAILURE = FAILURE_TYPES.sandboxImageMissing;

/** Concurrent calls for one session may race on the container name; each lost race is retried this many times. */
const ATTEMPTS = 5;
const RETRY_DELAY_MS = 100;

/**
 * Makes sure the session's container runs, lazily and idempotently: a running container is reused (`created: false`),
 * a stopped or dead one is removed and replaced by a new one that mounts the same workspace volume. Concurrent calls
 * for one session agree on one container.
 */
export async function provisionSandbox(
  options: SandboxOptions,
  input: ProvisionSandboxInput,
): Promise<ProvisionSandboxResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await provisionOnce(options, input.sessionId, input.files ?? []);
    if (result !== 'conflict') return result;
    if (attempt >= ATTEMPTS) throw new Error(`sandbox of session ${input.sessionId}: container name conflict persists`);
    await sleep(RETRY_DELAY_MS * attempt);
  }
}

async function provisionOnce(
  options: SandboxOptions,
  sessionId: string,
  files: SandboxFileMount[],
): Promise<ProvisionSandboxResult | 'conflict'> {
  const { docker } = options;
  const existing = await inspectOrUndefined(docker.getContainer(sandboxContainerName(sessionId)));
  if (existing) {
    if (await makeRunning(docker, existing)) return { containerId: existing.Id, created: false };
    await removeQuietly(docker, existing.Id);
  }
  await ensureVolume(docker, sessionId);
  let container: Docker.Container;
  try {
    container = await docker.createContainer(buildContainerConfig(options, sessionId, files));
  } catch (error) {
    const status = dockerStatusCode(error);
    if (status === 409) return 'conflict';
    if (status === 404) {
      throw ApplicationFailure.nonRetryable(
        `The sandbox image ${options.image} does not exist on the Docker engine`,
        SANDBOX_IMAGE_MISSING_FAILURE,
      );
    }
    throw error;
  }
  try {
    await startIgnoringAlreadyStarted(container);
  } catch (error) {
    // Another call may have found this container stopped and removed it in the meantime.
    if (dockerStatusCode(error) === 404) return 'conflict';
    throw error;
  }
  return { containerId: container.id, created: true };
}

/** Brings an existing container to running where that is safe; `false` means it is dead and must be replaced. */
async function makeRunning(docker: Docker, info: Docker.ContainerInspectInfo): Promise<boolean> {
  const container = docker.getContainer(info.Id);
  const state = info.State;
  try {
    if (state.Paused) {
      await container.unpause();
      return true;
    }
    if (state.Running) return true;
    // A concurrent call created it and is about to start it.
    if (state.Status === 'created') {
      await startIgnoringAlreadyStarted(container);
      return true;
    }
  } catch (error) {
    if (dockerStatusCode(error) === 404) return false;
    throw error;
  }
  return false;
}

async function inspectOrUndefined(container: Docker.Container): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await container.inspect();
  } catch (error) {
    if (dockerStatusCode(error) === 404) return undefined;
    throw error;
  }
}

async function removeQuietly(docker: Docker, containerId: string): Promise<void> {
  try {
    await docker.getContainer(containerId).remove({ force: true });
  } catch (error) {
    // 404: already removed; 409: a concurrent call is removing it.
    const status = dockerStatusCode(error);
    if (status !== 404 && status !== 409) throw error;
  }
}

async function startIgnoringAlreadyStarted(container: Docker.Container): Promise<void> {
  try {
    await container.start();
  } catch (error) {
    if (dockerStatusCode(error) !== 304) throw error;
  }
}

async function ensureVolume(docker: Docker, sessionId: string): Promise<void> {
  try {
    await docker.createVolume({ Name: sandboxVolumeName(sessionId), Labels: { [SANDBOX_LABELS.session]: sessionId } });
  } catch (error) {
    if (dockerStatusCode(error) !== 409) throw error;
  }
}
