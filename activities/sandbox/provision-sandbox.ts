import { FAILURE_TYPES } from '../../common/failures';
import { setTimeout as sleep } from 'node:timers/promises';

import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';

import { sandboxNetworkAccess } from '../../common/network-policy';
import type {
  ProvisionSandboxInput,
  ProvisionSandboxResult,
  SandboxEnvironment,
  SandboxFileMount,
  SandboxNetworking,
} from '../../common/sandbox';
import {
  DEFAULT_SANDBOX_ENVIRONMENT,
  memoryVolumeName,
  SANDBOX_LABELS,
  sandboxContainerName,
} from '../../common/sandbox';
import { removeMemoryVolume } from './destroy-sandbox';
import { memoryMountsOf, writeMemoryMounts } from './memory-mounts';
import { skillBinds, skillMountsOf } from './skill-mounts';
import { fileContentPath, filesDirectory } from '../../common/file-content-path';
import { ensureLocalFileContent } from '../storage/local-file-content';
import { buildContainerConfig, ownerLabels } from './build-container-config';
import { dockerStatusCode } from './docker-status-code';
import { SANDBOX_NETWORK_LABELS } from './network/sandbox-network-names';
import type { NetworkAttachment } from './network/sandbox-networks';
import type { SandboxSecretVariable } from '../../common/credentials';
import { ensurePackageImage } from './packages/ensure-package-image';
import type { SandboxOptions } from './sandbox-options';
import { SESSION_ID_ATTRIBUTE } from '../../common/telemetry-attributes';
import { withSpan } from '../with-span';
import { warmPoolServes } from './warm-pool-serves';
import type { CheckedSandbox } from './runner/runner-pool';
import { sessionWorkspaceVolume } from './workspace-volume';

/** The `ApplicationFailure` type raised when the sandbox image does not exist: a retry cannot fix it. */
export const SANDBOX_IMAGE_MISSING_FAILURE = FAILURE_TYPES.sandboxImageMissing;

/** Concurrent calls for one session may race on the container name; each lost race is retried this many times. */
const ATTEMPTS = 5;
const RETRY_DELAY_MS = 100;

/**
 * Makes sure the session's container runs, lazily and idempotently: a running container is reused (`created: false`),
 * a stopped or dead one is removed and replaced by a new one that mounts the same workspace volume. Concurrent calls
 * for one session agree on one container. A new container gets the environment's network (none, the open network,
 * or the limited one behind this worker's egress proxy) and runs from the image with its packages (built and cached
 * on first need); a running one whose egress proxy is gone (its worker stopped) is replaced too. A session with no
 * container yet claims one of the worker's warm pool when the pool serves its kind of sandbox (`warmPoolServes`), so
 * its first tool call skips the container start; the claimed container's volume stays the session's workspace for
 * every later container (`sessionWorkspaceVolume`). When `signal` aborts during a package build, the call rejects with
 * the cancellation and the build carries on for the next call.
 */
export async function provisionSandbox(
  options: SandboxOptions,
  input: ProvisionSandboxInput,
  signal?: AbortSignal,
): Promise<ProvisionSandboxResult> {
  const { containerId, created } = await provisionCheckedSandbox(options, input, signal);
  return { containerId, created };
}

/**
 * `provisionSandbox`, and when it found the session's container running and reused it, what that container was checked
 * against (for `RunnerPool.rememberCheckedSandbox`, so later tool calls through its runner can skip the check).
 */
export async function provisionCheckedSandbox(
  options: SandboxOptions,
  input: ProvisionSandboxInput,
  signal?: AbortSignal,
): Promise<ProvisionSandboxResult & { checked?: CheckedSandbox }> {
  const environment = input.environment ?? DEFAULT_SANDBOX_ENVIRONMENT;
  for (let attempt = 1; ; attempt++) {
    const result = await withSpan('sandbox.provision', { [SESSION_ID_ATTRIBUTE]: input.sessionId }, () =>
      provisionOnce(options, input.sessionId, input.files ?? [], environment, vaultsOf(input), signal),
    );
    if (result !== 'conflict') return result;
    if (attempt >= ATTEMPTS) throw new Error(`sandbox of session ${input.sessionId}: container name conflict persists`);
    await sleep(RETRY_DELAY_MS * attempt);
  }
}

/** The session's vaults, whose `environment_variable` credentials a new container gets placeholders for. */
interface SessionVaults {
  vaultIds: string[];
  workspaceId: string | undefined;
}

function vaultsOf(input: ProvisionSandboxInput): SessionVaults {
  return { vaultIds: input.vaultIds ?? [], workspaceId: input.workspaceId };
}

async function provisionOnce(
  options: SandboxOptions,
  sessionId: string,
  files: SandboxFileMount[],
  environment: SandboxEnvironment,
  vaults: SessionVaults,
  signal: AbortSignal | undefined,
): Promise<(ProvisionSandboxResult & { checked?: CheckedSandbox }) | 'conflict'> {
  const { docker } = options;
  // Independent reads, made at once: every tool call comes through here, and most find their container running.
  const [memoryMounts, skillMounts, existing] = await Promise.all([
    // The session's memory stores, fixed when it was created (read from the control plane, not carried by the
    // Workflow).
    options.memory === undefined ? [] : memoryMountsOf(options.memory, sessionId),
    // Its custom skills, fixed when it was created too; each version's files are copied to this machine once.
    options.skills === undefined ? [] : skillMountsOf(options.skills.rows, sessionId),
    inspectOrUndefined(docker.getContainer(sandboxContainerName(sessionId))),
    // A file uploaded through a server on another machine is fetched from the shared store before it is mounted.
    (async () => {
      for (const file of files) await ensureLocalFileContent(options.dataDir, file.fileId, options.sharedFiles);
    })(),
  ]);
  if (existing) {
    // A session's file resources changed (sessions.resources): the container is replaced, its workspace volume kept.
    const sameFiles = mountsFiles(existing, files, options.dataDir);
    const proxy = existing.Config.Labels[SANDBOX_NETWORK_LABELS.proxy];
    if (sameFiles && (await makeRunning(docker, existing)) && (await proxyServes(options, proxy))) {
      const checked = { containerId: existing.Id, filesKey: sandboxFilesKey(files), proxy };
      return { containerId: existing.Id, created: false, checked };
    }
    await removeQuietly(docker, existing.Id);
  }
  // Read only for a new container: a running one keeps the variables it was created with.
  const secretVariables = await sandboxSecretVariables(options, vaults);
  if (
    existing === undefined &&
    secretVariables.length === 0 &&
    options.warmPool !== undefined &&
    memoryMounts.length === 0 &&
    skillMounts.length === 0 &&
    warmPoolServes(files, environment)
  ) {
    const claimed = await options.warmPool.claim(sessionId);
    if (claimed !== undefined) return { containerId: claimed, created: true };
  }
  const image = await ensurePackageImage(
    {
      docker,
      image: options.image,
      networks: options.networks,
      caBundlePath: options.caBundlePath,
      ...(signal === undefined ? {} : { signal }),
    },
    environment.packages,
  );
  const network = withSecretVariables(
    await networkAttachment(options, environment.networking, secretVariables.length > 0),
    secretVariables,
  );
  const workspaceVolume = await sessionWorkspaceVolume(options, sessionId);
  // A new container gets a fresh copy of the stores: the volume of an earlier container is dropped first.
  const memoryVolume = memoryMounts.length === 0 ? undefined : memoryVolumeName(sessionId);
  if (memoryVolume !== undefined) {
    await removeMemoryVolume(options, sessionId);
    await createMemoryVolume(options, sessionId, memoryVolume);
  }
  const skills =
    options.skills === undefined ? [] : await skillBinds(options.dataDir, skillMounts, options.skills.blobs);
  let container: Docker.Container;
  try {
    container = await docker.createContainer(
      buildContainerConfig(options, sessionId, files, {
        image,
        network,
        workspaceVolume,
        ...(memoryVolume === undefined ? {} : { memoryVolume }),
        ...(skills.length === 0 ? {} : { skillBinds: skills }),
      }),
    );
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
  if (options.memory !== undefined && memoryMounts.length > 0) {
    await writeMemoryMounts(docker, container.id, memoryMounts, options.memory);
  }
  return { containerId: container.id, created: true };
}

/**
 * Whether the container bind-mounts exactly `files` (each file's content at its mount path), no more, no less, among
 * its binds of uploaded files' content (other mounts are not the session's resources and do not count).
 */
export function mountsFiles(info: Docker.ContainerInspectInfo, files: SandboxFileMount[], dataDir: string): boolean {
  const key = (source: string, target: string): string => `${source}\u0000${target}`;
  const folder = `${filesDirectory(dataDir)}/`;
  const wanted = new Set(files.map((file) => key(fileContentPath(dataDir, file.fileId), file.mountPath)));
  const present = new Set(
    (info.Mounts ?? []).flatMap((mount) =>
      mount.Type === 'bind' && mount.Source.startsWith(folder) ? [key(mount.Source, mount.Destination)] : [],
    ),
  );
  return wanted.size === present.size && [...wanted].every((entry) => present.has(entry));
}

/** How much a session's memory volume may hold (it is memory: a tmpfs, gone when no container uses it). */
const MEMORY_VOLUME_SIZE = '256m';

/**
 * Makes a session's memory volume: a tmpfs of `MEMORY_VOLUME_SIZE`, so what the agent writes under `/mnt/memory` is
 * capped and starts empty with each container, labelled with its session and owner so orphan clean-up finds it.
 */
async function createMemoryVolume(options: SandboxOptions, sessionId: string, name: string): Promise<void> {
  await options.docker.createVolume({
    Name: name,
    Driver: 'local',
    DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: `size=${MEMORY_VOLUME_SIZE},mode=0755` },
    Labels: { ...ownerLabels(options), [SANDBOX_LABELS.session]: sessionId },
  });
}

/** The placeholder variables of the session's `environment_variable` credentials (none without vaults). */
async function sandboxSecretVariables(
  options: SandboxOptions,
  vaults: SessionVaults,
): Promise<SandboxSecretVariable[]> {
  if (vaults.vaultIds.length === 0 || options.environmentSecrets === undefined) return [];
  return options.environmentSecrets.sandboxSecretVariables(vaults.vaultIds, vaults.workspaceId);
}

/**
 * `network` with the credentials' placeholder variables (`secret_name=placeholder`, never a secret) and the label
 * that tells the egress proxy which credentials' secrets it may substitute for this container.
 */
function withSecretVariables(network: NetworkAttachment, variables: SandboxSecretVariable[]): NetworkAttachment {
  if (variables.length === 0) return network;
  return {
    ...network,
    env: [...network.env, ...variables.map((variable) => `${variable.secretName}=${variable.placeholder}`)],
    labels: {
      ...network.labels,
      [SANDBOX_NETWORK_LABELS.credentials]: JSON.stringify(variables.map((variable) => variable.credentialId)),
    },
  };
}

/**
 * The network a new container of `networking` joins; anything but none needs the worker's sandbox networks.
 * `proxied` (a session with vault secrets) puts even an `unrestricted` container behind the egress proxy.
 */
async function networkAttachment(
  options: SandboxOptions,
  networking: SandboxNetworking,
  proxied: boolean,
): Promise<NetworkAttachment> {
  if (sandboxNetworkAccess(networking) === 'none') return { networkMode: 'none', env: [], labels: {} };
  if (options.networks === undefined) {
    throw ApplicationFailure.nonRetryable(
      'This worker cannot give a sandbox the network its environment allows: it was started without sandbox networks',
      FAILURE_TYPES.sandboxNetworkUnavailable,
    );
  }
  return options.networks.attachment(networking, { proxied });
}

/**
 * Whether a running container behind the egress proxy `proxy` (its label, if any) can still reach it; else it is
 * replaced, being cattle.
 */
export async function proxyServes(options: SandboxOptions, proxy: string | undefined): Promise<boolean> {
  if (proxy === undefined || options.networks === undefined) return true;
  return options.networks.proxyServes(proxy);
}

/** The session's file resources as one comparable string: which upload is mounted where, in a fixed order. */
export function sandboxFilesKey(files: readonly SandboxFileMount[]): string {
  return files
    .map((file) => JSON.stringify([file.fileId, file.mountPath]))
    .sort()
    .join('\n');
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
