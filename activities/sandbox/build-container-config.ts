import type Docker from 'dockerode';

import { fileContentPath } from '../../common/file-content-path';
import { MEMORY_MOUNT_ROOT } from '../../common/memory';
import { SANDBOX_LABELS, sandboxContainerName, sandboxVolumeName } from '../../common/sandbox';
import type { SandboxFileMount } from '../../common/sandbox';
import type { NetworkAttachment } from './network/sandbox-networks';
import { SANDBOX_USER, SANDBOX_WORKDIR } from './sandbox-constants';
import type { SandboxOptions } from './sandbox-options';
import type { SkillBind } from './skill-mounts';

/** What a session's container runs on besides the worker's options: its image and its network. */
export interface ContainerEnvironment {
  /** The image with the environment's packages; defaults to the base sandbox image. */
  image?: string;
  /** Defaults to no network at all. */
  network?: NetworkAttachment;
  /**
   * The volume mounted at `/workspace`; defaults to `sandboxVolumeName(sessionId)`. A session that claimed a warm
   * container keeps that container's volume (see `sessionWorkspaceVolume`).
   */
  workspaceVolume?: string;
  /** The volume mounted at `/mnt/memory` (`memoryVolumeName`) for a session with memory stores; none otherwise. */
  memoryVolume?: string;
  /** The session's custom skills: each version's folder on the Docker host, bound read-only at `/mnt/skills/<name>`. */
  skillBinds?: SkillBind[];
}

const NO_NETWORK: NetworkAttachment = { networkMode: 'none', env: [], labels: {} };

/**
 * The hardened create options of a session's container: non-root, all capabilities dropped, `no-new-privileges`,
 * read-only root with tmpfs `/tmp` and home, memory / CPU / pids limits, the environment's network (none by default;
 * with the egress proxy's variables when it is limited to some hosts), and the session's volume at `/workspace`
 * (Docker fills a new volume from the image's `/workspace`, owned by uid 1000), and the session's uploaded files
 * bind-mounted read-only.
 */
export function buildContainerConfig(
  options: SandboxOptions,
  sessionId: string,
  files: SandboxFileMount[] = [],
  environment: ContainerEnvironment = {},
): Docker.ContainerCreateOptions {
  const network = environment.network ?? NO_NETWORK;
  const config = hardenedConfig(options, environment.image ?? options.image, network, [
    { Type: 'volume', Source: environment.workspaceVolume ?? sandboxVolumeName(sessionId), Target: SANDBOX_WORKDIR },
    ...files.map((file) => ({
      Type: 'bind' as const,
      Source: fileContentPath(options.dataDir, file.fileId),
      Target: file.mountPath,
      ReadOnly: true,
    })),
    ...(environment.memoryVolume === undefined
      ? []
      : [{ Type: 'volume' as const, Source: environment.memoryVolume, Target: MEMORY_MOUNT_ROOT }]),
    ...(environment.skillBinds ?? []).map((bind) => ({
      Type: 'bind' as const,
      Source: bind.source,
      Target: bind.target,
      ReadOnly: true,
    })),
    ...(network.mounts ?? []),
  ]);
  return {
    ...config,
    name: sandboxContainerName(sessionId),
    Labels: { ...network.labels, ...ownerLabels(options), [SANDBOX_LABELS.session]: sessionId },
  };
}

/**
 * How long a warm container waits for its watcher (see `startWarmContainer`) before it stops by itself: a worker killed
 * between starting the container and attaching the watcher leaves nothing running.
 */
export const WARM_WATCHER_GRACE_SECONDS = 30;

/** The file a warm container's main shell makes once it listens for its watcher's signal (on the `/tmp` tmpfs). */
export const WARM_TRAP_SET_FILE = '/tmp/.keel-warm-trap-set';

/**
 * The main process of a warm container: a shell that stops the container after `graceSeconds` (it exits, and
 * `docker-init` with it) unless its watcher sends `SIGUSR1` first, which makes it reap its timer and `sleep infinity` like a
 * session's container. `SIGTERM` (the watcher's, when its worker goes) ends it at any time.
 */
export function warmContainerCommand(graceSeconds: number): string[] {
  const script =
    `trap 'kill $! 2>/dev/null; wait; exec sleep infinity' USR1; : > ${WARM_TRAP_SET_FILE}; ` +
    `sleep ${Math.max(1, Math.round(graceSeconds))} & wait`;
  return ['sh', '-c', script];
}

/**
 * The create options of a warm pool's container, named `name`: hardened like a session's, on the base image with no
 * network and no file, labelled with its owner and `SANDBOX_LABELS.warm` but no session, and with a fresh volume
 * `volume` (made with the container, so it is never unused before a session claims it) at `/workspace`, on the disk
 * `disk` describes when there is a quota (its driver options and labels: see `createWorkspaceDisk`). Its main process
 * stops it after `watcherGraceSeconds` unless its watcher arrives (`warmContainerCommand`).
 */
export function warmContainerConfig(
  options: SandboxOptions,
  name: string,
  volume: string,
  disk?: { driverOptions: Record<string, string>; labels: Record<string, string> },
  watcherGraceSeconds: number = WARM_WATCHER_GRACE_SECONDS,
): Docker.ContainerCreateOptions {
  const labels = { ...ownerLabels(options), [SANDBOX_LABELS.warm]: 'true' };
  const workspace = {
    Type: 'volume' as const,
    Source: volume,
    Target: SANDBOX_WORKDIR,
    // Docker copies the image's `/workspace` into the new volume, as it does for a session's.
    VolumeOptions: {
      NoCopy: false,
      Labels: { ...labels, ...disk?.labels },
      DriverConfig: { Name: 'local', Options: disk?.driverOptions ?? {} },
    },
  };
  return {
    ...hardenedConfig(options, options.image, NO_NETWORK, [workspace]),
    Cmd: warmContainerCommand(watcherGraceSeconds),
    name,
    Labels: labels,
  };
}

/** What every sandbox container shares, whoever it is for: the hardening, the limits, the network and the mounts. */
function hardenedConfig(
  options: SandboxOptions,
  image: string,
  network: NetworkAttachment,
  mounts: Docker.MountSettings[],
): Docker.ContainerCreateOptions {
  return {
    Image: image,
    Cmd: ['sleep', 'infinity'],
    User: SANDBOX_USER,
    WorkingDir: SANDBOX_WORKDIR,
    Hostname: 'sandbox',
    Env: ['HOME=/home/agent', 'USER=agent', 'LANG=C.UTF-8', 'TERM=dumb', ...network.env],
    HostConfig: {
      Init: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: {
        '/tmp': 'rw,nosuid,nodev,size=64m,mode=1777',
        '/home/agent': 'rw,nosuid,nodev,size=64m,uid=1000,gid=1000,mode=0755',
      },
      Memory: options.memoryBytes,
      MemorySwap: options.memoryBytes,
      NanoCpus: options.nanoCpus,
      PidsLimit: options.pidsLimit,
      NetworkMode: network.networkMode,
      ...(network.dns === undefined ? {} : { Dns: network.dns }),
      Mounts: mounts,
      RestartPolicy: { Name: 'no' },
    },
  };
}

/** The labels that name the cluster and the worker a container or volume belongs to (none when not configured). */
export function ownerLabels(options: Pick<SandboxOptions, 'owner'>): Record<string, string> {
  if (options.owner === undefined) return {};
  return { [SANDBOX_LABELS.cluster]: options.owner.cluster, [SANDBOX_LABELS.worker]: options.owner.worker };
}
