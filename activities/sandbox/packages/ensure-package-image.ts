import { setTimeout as sleep } from 'node:timers/promises';

import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';

import { FAILURE_TYPES } from '../../../common/failures';
import type { SandboxPackages } from '../../../common/sandbox';
import { cancellationOf } from '../cancellation-of';
import { dockerStatusCode } from '../docker-status-code';
import type { SandboxNetworks } from '../network/sandbox-networks';
import { buildPackageImage, packageBuildContainerName } from './build-package-image';
import { hasPackages, invalidPackageName, normalizedPackages, packageImageTag } from './package-set';

/** What `ensurePackageImage` needs from the worker. */
export interface PackageImageOptions {
  docker: Docker;
  /** The base sandbox image. */
  image: string;
  /** Where builds get their network; without it, only environments without packages can run. */
  networks: SandboxNetworks | undefined;
  caBundlePath: string | undefined;
  signal?: AbortSignal;
}

/** A build gets this long before it is killed and reported; the sandbox Activities' start-to-close is 30 minutes. */
export const PACKAGE_BUILD_TIMEOUT_MS = 20 * 60_000;
/** A failed package set is not built again by this worker for this long, so each tool call does not pay for it. */
export const FAILED_BUILD_MEMORY_MS = 2 * 60_000;
/** Another worker's build container that exited this long ago without producing the image is left over: removed. */
const ABANDONED_BUILD_AFTER_MS = 60_000;
const POLL_INTERVAL_MS = 1_000;

/** The in-process lock: one build per tag at a time in this process, whoever asks. */
const builds = new Map<string, Promise<void>>();
const failedBuilds = new Map<string, { failure: ApplicationFailure; until: number }>();

/**
 * The image a session's container runs: the base image when the environment lists no packages, else the derived
 * image with them installed, built on first need and reused afterwards (by tag, across sessions and workers).
 * Concurrent callers in this process share one build; a second worker on the same Docker engine waits for the first
 * worker's build container. When `signal` aborts, the caller stops waiting (the build goes on, for the next call).
 */
export async function ensurePackageImage(
  options: PackageImageOptions,
  packages: SandboxPackages | undefined,
): Promise<string> {
  const wanted = normalizedPackages(packages);
  if (!hasPackages(wanted)) return options.image;
  const invalid = invalidPackageName(wanted);
  if (invalid !== undefined) throw ApplicationFailure.nonRetryable(invalid, FAILURE_TYPES.sandboxPackagesFailed);
  const networks = options.networks;
  if (networks === undefined) {
    throw ApplicationFailure.nonRetryable(
      'This worker cannot install packages: it was started without sandbox networks',
      FAILURE_TYPES.sandboxNetworkUnavailable,
    );
  }
  const base = await inspectImage(options.docker, options.image);
  if (base === undefined) {
    throw ApplicationFailure.nonRetryable(
      `The sandbox image ${options.image} does not exist on the Docker engine`,
      FAILURE_TYPES.sandboxImageMissing,
    );
  }
  const tag = packageImageTag(base.Id, wanted);
  if ((await inspectImage(options.docker, tag)) !== undefined) return tag;
  const failed = failedBuilds.get(tag);
  if (failed !== undefined && Date.now() < failed.until) throw failed.failure;

  let building = builds.get(tag);
  if (building === undefined) {
    building = buildUntilPresent(options.docker, {
      base,
      packages: wanted,
      tag,
      network: await networks.openNetwork(),
      caBundlePath: options.caBundlePath,
    })
      .catch((error: unknown) => {
        if (error instanceof ApplicationFailure && error.nonRetryable) {
          failedBuilds.set(tag, { failure: error, until: Date.now() + FAILED_BUILD_MEMORY_MS });
        }
        throw error;
      })
      .finally(() => builds.delete(tag));
    builds.set(tag, building);
  }
  await abortable(building, options.signal);
  return tag;
}

async function buildUntilPresent(
  docker: Docker,
  request: {
    base: Docker.ImageInspectInfo;
    packages: SandboxPackages;
    tag: string;
    network: string;
    caBundlePath: string | undefined;
  },
): Promise<void> {
  for (;;) {
    if ((await inspectImage(docker, request.tag)) !== undefined) return;
    const outcome = await buildPackageImage({ docker, ...request, timeoutMs: PACKAGE_BUILD_TIMEOUT_MS });
    if (outcome === 'built') return;
    await waitForOtherBuild(docker, request.tag);
  }
}

/** Waits until another worker's build of `tag` produced the image or its container is gone (then the caller tries). */
async function waitForOtherBuild(docker: Docker, tag: string): Promise<void> {
  const container = docker.getContainer(packageBuildContainerName(tag));
  for (;;) {
    if ((await inspectImage(docker, tag)) !== undefined) return;
    let info: Docker.ContainerInspectInfo;
    try {
      info = await container.inspect();
    } catch (error) {
      if (dockerStatusCode(error) === 404) return;
      throw error;
    }
    // A build that exited (or was never started) a while ago and left no image lost its worker.
    const idleSince = Math.max(Date.parse(info.State.FinishedAt) || 0, Date.parse(info.Created) || 0);
    if (!info.State.Running && Date.now() - idleSince > ABANDONED_BUILD_AFTER_MS) {
      await container.remove({ force: true }).catch(() => undefined);
      return;
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

async function inspectImage(docker: Docker, name: string): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(name).inspect();
  } catch (error) {
    if (dockerStatusCode(error) === 404) return undefined;
    throw error;
  }
}

/** `work`, or a rejection with the cancellation as soon as `signal` aborts. */
function abortable(work: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(cancellationOf(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(cancellationOf(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
