import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import type Docker from 'dockerode';

import { WORKSPACE_DISK_LABEL, releaseWorkspaceDisk } from './workspace-disk';

/** An image this young may be one whose volume is being made (a creation takes milliseconds): it is left alone. */
const CREATION_GRACE_MS = 10 * 60 * 1000;
/**
 * How `losetup --list` shows a loop device whose workspace image was deleted under it and that is not yet marked to
 * detach (its `AUTOCLEAR` column is 0): a device already marked goes when Docker unmounts it, and is not counted again.
 */
const DELETED_WORKSPACE_IMAGE = /^(\/dev\/loop\d+)\s+0\s+\/.*\/keel-[^/]*-workspace\.img \(deleted\)$/;
const SEARCH_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Removes what no session can use any more of the workspace disks (`KEEL_SANDBOX_DISK_QUOTA`): the images in
 * `directory` that no Docker volume names (a worker killed between making an image and its volume), once older than
 * the creation grace, and, on the whole host, the loop devices whose Keel workspace image was deleted under them (its
 * folder removed while attached). Detaching a device still mounted only marks it to go when unmounted. Returns how many
 * of each went.
 */
export async function removeOrphanWorkspaceDisks(
  docker: Docker,
  directory: string,
): Promise<{ images: number; loopDevices: number }> {
  const removed = { images: 0, loopDevices: 0 };
  const { Volumes: volumes } = await docker.listVolumes({ filters: JSON.stringify({ label: [WORKSPACE_DISK_LABEL] }) });
  const named = new Set(
    volumes.map((volume) => (volume.Labels as Record<string, string> | null)?.[WORKSPACE_DISK_LABEL]),
  );
  const names = await readdir(directory).catch(() => []);
  for (const name of names.filter((candidate) => candidate.endsWith('.img'))) {
    const image = path.join(directory, name);
    if (named.has(image)) continue;
    const modified = await stat(image).then(
      (info) => info.mtimeMs,
      () => undefined,
    );
    if (modified === undefined || Date.now() - modified < CREATION_GRACE_MS) continue;
    await releaseWorkspaceDisk(image);
    removed.images += 1;
  }
  const run = promisify(execFile);
  const options = { env: { PATH: SEARCH_PATH, LC_ALL: 'C' }, timeout: 30_000 };
  const { stdout } = await run('losetup', ['--list', '--noheadings', '--output', 'NAME,AUTOCLEAR,BACK-FILE'], options);
  for (const line of stdout.split('\n')) {
    const device = DELETED_WORKSPACE_IMAGE.exec(line.trim())?.[1];
    if (device === undefined) continue;
    if (
      await run('losetup', ['--detach', device], options).then(
        () => true,
        () => false,
      )
    )
      removed.loopDevices += 1;
  }
  return removed;
}
