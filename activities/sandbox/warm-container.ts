import { randomBytes } from 'node:crypto';

import type Docker from 'dockerode';

import { WARM_TRAP_SET_FILE, WARM_WATCHER_GRACE_SECONDS, warmContainerConfig } from './build-container-config';
import { dockerStatusCode } from './docker-status-code';
import type { SandboxOptions } from './sandbox-options';
import { startExec } from './start-exec';
import type { StartedExec } from './start-exec';
import { WORKSPACE_DISK_LABEL, createWorkspaceDisk, releaseWorkspaceDisk } from './workspace-disk';
import { removeVolumeAndDisk } from './workspace-volume';

/** The name of every warm container that no session has claimed yet: a claim renames it after its session. */
export const WARM_CONTAINER_PREFIX = 'keel-warm-';

/** What the watcher reads when its container is claimed: it then exits and leaves the container running. */
const DISARM_LINE = 'claimed\n';

/**
 * The watcher, a long-lived exec with its stdin held open by the worker. It first tells the container's main shell
 * that it is there (`SIGUSR1`, once that shell listens for it: see `warmContainerCommand`), so the container no longer
 * stops by itself after its grace. Then, when the worker goes away without a word (a crash, a kill), stdin closes and
 * the watcher stops the container (TERM to `docker-init`, which ends the main process). So a warm container never
 * outlives its worker running, even a worker killed before the watcher arrived, and a worker that starts removes the
 * stopped ones it finds.
 */
const WATCHER_ARGV = [
  'sh',
  '-c',
  `while [ ! -e ${WARM_TRAP_SET_FILE} ]; do sleep 0.05; done; kill -USR1 1; ` +
    'read -r line; [ "$line" = claimed ] || kill -TERM 1',
];

/** A started warm container: its id, its name, its workspace volume, and its watcher. */
export interface WarmContainer {
  id: string;
  name: string;
  volume: string;
  /** Set when the watcher's stream has closed: the container is stopping or gone, or it was handed over. */
  ended: boolean;
  /** Settles when the watcher's stream has closed. */
  watcherEnded: Promise<void>;
  /** Tells the watcher that a session claimed the container: it exits and the container keeps running. */
  disarm(): void;
  /** Drops the watcher's connection without a word (its container then stops). */
  closeWatcher(): void;
}

/**
 * Creates and starts a warm container with a fresh workspace volume (`warmContainerConfig`), on a disk of its own when
 * the worker has a quota, and attaches its watcher, which must arrive within `watcherGraceSeconds` of the start. What
 * was made is removed again when a step fails.
 */
export async function startWarmContainer(
  options: SandboxOptions,
  watcherGraceSeconds: number = WARM_WATCHER_GRACE_SECONDS,
): Promise<WarmContainer> {
  const name = `${WARM_CONTAINER_PREFIX}${randomBytes(6).toString('hex')}`;
  const volume = `${name}-workspace`;
  const disk =
    options.workspaceDisk === undefined ? undefined : await createWorkspaceDisk(options.workspaceDisk, volume);
  let container: Docker.Container;
  try {
    container = await options.docker.createContainer(
      warmContainerConfig(options, name, volume, disk, watcherGraceSeconds),
    );
  } catch (error) {
    await releaseWorkspaceDisk(disk?.labels[WORKSPACE_DISK_LABEL]).catch(() => undefined);
    throw error;
  }
  let watcher: StartedExec;
  try {
    await container.start();
    watcher = await startExec({
      docker: options.docker,
      containerId: container.id,
      argv: WATCHER_ARGV,
      keepStdinOpen: true,
      onOutput: () => undefined,
    });
  } catch (error) {
    await removeWarmContainer(options.docker, { id: container.id, volume }).catch(() => undefined);
    throw error;
  }
  // An idle pool never keeps the worker's process alive.
  watcher.holdEventLoop(false);
  const warm: WarmContainer = {
    id: container.id,
    name,
    volume,
    ended: false,
    watcherEnded: watcher.ended,
    disarm: () => {
      watcher.write(DISARM_LINE);
      watcher.endInput();
    },
    closeWatcher: () => watcher.close(),
  };
  void watcher.ended.then(() => {
    warm.ended = true;
  });
  return warm;
}

/**
 * Force-removes a warm container and, unless `keepVolume` (a session's workspace now), its volume; what is already gone
 * or being removed is no error.
 */
export async function removeWarmContainer(
  docker: Docker,
  warm: Pick<WarmContainer, 'id' | 'volume'>,
  keepVolume = false,
): Promise<void> {
  try {
    await docker.getContainer(warm.id).remove({ force: true });
  } catch (error) {
    const status = dockerStatusCode(error);
    if (status !== 404 && status !== 409) throw error;
  }
  if (keepVolume) return;
  try {
    await removeVolumeAndDisk(docker, warm.volume);
  } catch (error) {
    const status = dockerStatusCode(error);
    if (status !== 404 && status !== 409) throw error;
  }
}
