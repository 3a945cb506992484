import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';

import { FAILURE_TYPES } from '../../../common/failures';
import type { SandboxPackages } from '../../../common/sandbox';
import { DockerStreamDemuxer } from '../docker-stream-demuxer';
import { dockerStatusCode } from '../docker-status-code';
import { PACKAGE_BUILD_PROGRAM, PACKAGE_MANAGER_EXIT_STATUS } from './package-build-program';
import type { PackageBuildSpec } from './package-build-program';
import { PACKAGE_MANAGERS, PACKAGE_SET_LABEL } from './package-set';

/** One package image build. */
export interface PackageBuildRequest {
  docker: Docker;
  /** The base image, by id, and its configuration, which the derived image keeps. */
  base: Docker.ImageInspectInfo;
  packages: SandboxPackages;
  /** `repository:hash`, the derived image's tag. */
  tag: string;
  /** The network the build container joins: it needs the package registries. */
  network: string;
  /** A CA bundle on the Docker host, mounted read-only for pip and npm; `undefined` for none. */
  caBundlePath: string | undefined;
  timeoutMs: number;
}

/**
 * The build container's name: one per package set, so two workers sharing a Docker engine never build one twice. It
 * carries no label of its own: a commit would pass it on to the image and to every session container.
 */
export function packageBuildContainerName(tag: string): string {
  return `keel-build-${tag.split(':')[1] ?? tag}`;
}

const CA_BUNDLE_IN_BUILD = '/tmp/keel-build/ca-certificates.crt';
const BUILD_MEMORY_BYTES = 2 * 1024 * 1024 * 1024;
const OUTPUT_TAIL_LINES = 25;
const OUTPUT_TAIL_MAX_CHARS = 4000;

/**
 * Builds `tag`: runs `PACKAGE_BUILD_PROGRAM` as root in a one-off container from the base image on `network`, then
 * commits it with the base image's user, command and working directory (the build's own settings stay out of the
 * image; `/tmp`, where caches and the CA bundle lie, is a tmpfs and is not committed). Returns `busy` when another
 * build of the same set holds the container name. A package manager's failure is a non-retryable
 * `SandboxPackagesFailed` naming the manager, with the last lines of its output.
 */
export async function buildPackageImage(request: PackageBuildRequest): Promise<'built' | 'busy'> {
  const { docker, base, packages, tag } = request;
  const spec: PackageBuildSpec = {
    ...packages,
    caBundle: request.caBundlePath === undefined ? null : CA_BUNDLE_IN_BUILD,
  };
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      name: packageBuildContainerName(tag),
      Image: base.Id,
      User: 'root',
      WorkingDir: '/',
      // Docker resets an image's entrypoint with [''] (and the commit then restores the base one).
      ...((base.Config.Entrypoint ?? []).length > 0 ? { Entrypoint: [''] } : {}),
      Cmd: ['python3', '-u', '-c', PACKAGE_BUILD_PROGRAM, JSON.stringify(spec)],
      HostConfig: {
        NetworkMode: request.network,
        Init: true,
        SecurityOpt: ['no-new-privileges'],
        Memory: BUILD_MEMORY_BYTES,
        MemorySwap: BUILD_MEMORY_BYTES,
        Tmpfs: { '/tmp': 'rw,nosuid,nodev,mode=1777' },
        Mounts:
          request.caBundlePath === undefined
            ? []
            : [{ Type: 'bind', Source: request.caBundlePath, Target: CA_BUNDLE_IN_BUILD, ReadOnly: true }],
      },
    });
  } catch (error) {
    if (dockerStatusCode(error) === 409) return 'busy';
    throw error;
  }
  try {
    await container.start();
    const status = await waitForExit(container, request.timeoutMs);
    if (status !== 0) throw await buildFailure(container, packages, status, request.timeoutMs);
    const [repo = tag, hash = 'latest'] = tag.split(':');
    await container.commit({
      repo,
      tag: hash,
      changes: [...baseConfigChanges(base), `LABEL ${PACKAGE_SET_LABEL}=${hash}`],
    });
    return 'built';
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Dockerfile instructions that give the committed image the base image's entrypoint, command, user and directory. */
function baseConfigChanges(base: Docker.ImageInspectInfo): string[] {
  const config = base.Config;
  const entrypoint = config.Entrypoint ?? [];
  return [
    ...(entrypoint.length > 0 ? [`ENTRYPOINT ${JSON.stringify(entrypoint)}`] : []),
    `CMD ${JSON.stringify(config.Cmd ?? [])}`,
    `USER ${config.User || 'root'}`,
    `WORKDIR ${config.WorkingDir || '/'}`,
  ];
}

/** The build's exit status, or `null` when it ran past `timeoutMs` and was killed. */
async function waitForExit(container: Docker.Container, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    const outcome = await Promise.race([container.wait() as Promise<{ StatusCode: number }>, timedOut]);
    if (outcome === null) await container.kill().catch(() => undefined);
    return outcome === null ? null : outcome.StatusCode;
  } finally {
    clearTimeout(timer);
  }
}

async function buildFailure(
  container: Docker.Container,
  packages: SandboxPackages,
  status: number | null,
  timeoutMs: number,
): Promise<ApplicationFailure> {
  const output = await outputTail(container);
  const manager = PACKAGE_MANAGERS.find((name) => PACKAGE_MANAGER_EXIT_STATUS[name] === status);
  const what =
    manager === undefined
      ? status === null
        ? `The environment's packages were not installed within ${Math.round(timeoutMs / 1000)} s`
        : `Installing the environment's packages failed (exit status ${status})`
      : `${manager} could not install the environment's packages` +
        (packages[manager].length > 0 ? ` (${packages[manager].join(', ')})` : '');
  return ApplicationFailure.nonRetryable(
    `${what}. Last lines of the ${manager ?? 'build'} output:\n${output}`,
    FAILURE_TYPES.sandboxPackagesFailed,
  );
}

/** The last lines of the build's output (stdout and stderr, in order), capped. */
async function outputTail(container: Docker.Container): Promise<string> {
  try {
    const raw = await container.logs({ stdout: true, stderr: true, follow: false, tail: 200 });
    const frames = new DockerStreamDemuxer().push(raw);
    const text = Buffer.concat(frames.map((frame) => frame.data)).toString('utf8');
    const tail = text.trimEnd().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
    return tail.length > OUTPUT_TAIL_MAX_CHARS ? tail.slice(-OUTPUT_TAIL_MAX_CHARS) : tail;
  } catch (error) {
    return `(the output could not be read: ${error instanceof Error ? error.message : String(error)})`;
  }
}
