import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { OffThreadCommandError, execFileOffThread } from './exec-file-off-thread';
import { SANDBOX_USER } from './sandbox-constants';

/**
 * Where and how large the workspace disks are (`KEEL_SANDBOX_DISK_QUOTA`, `KEEL_SANDBOX_DISK_DIR`): every workspace
 * volume is a sparse ext4 image of `quotaBytes` in `directory`, so writing past it fails in the sandbox with "No space
 * left on device" and never takes more of the host's disk than the quota.
 */
export interface WorkspaceDiskOptions {
  quotaBytes: number;
  /** A folder on the Docker engine's host (the worker and the engine must see the same path and the same `/dev`). */
  directory: string;
}

/** The Docker volume label that marks a workspace volume backed by a disk image, with the image's path as its value. */
export const WORKSPACE_DISK_LABEL = 'dev.keel.workspace-disk';

/** The smallest quota: an ext4 file system with its journal needs a few MB of its own. */
export const MIN_WORKSPACE_DISK_BYTES = 32 * 1024 * 1024;

/** How long a disk operation may wait for the folder's lock and run (`mkfs.ext4` of a sparse file takes ms). */
const DISK_COMMAND_TIMEOUT_MS = 120_000;
/** The lock is the folder itself: one creation, attachment or release at a time per host folder. */
const LOCK_WAIT_SECONDS = 60;
/** `losetup --find` may lose a free device to a concurrent call of another folder; it is asked this many times. */
const ATTACH_ATTEMPTS = 5;
const SEARCH_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// create|attach <image> <link> <bytes> <uid:gid>: makes the image when `create` finds none (a sparse file, ext4 with no
// reserved blocks and its root owned by the sandbox user, `lost+found` removed; made under a temporary name and
// renamed, so a crash never leaves a half-made image), attaches it to a loop device unless one already holds it, and
// points the link at that device (renamed into place). `attach` with no image fails: a lost workspace is never replaced
// silently.
const ATTACH_SCRIPT = `
set -eu
mode=$1 image=$2 link=$3 bytes=$4 owner=$5 attempts=$6
if [ ! -e "$image" ]; then
  if [ "$mode" != create ]; then echo "the workspace disk image $image is missing" >&2; exit 3; fi
  rm -f "$image.new"
  truncate -s "$bytes" "$image.new"
  mkfs.ext4 -q -F -m 0 -E "root_owner=$owner,assume_storage_prezeroed=1" "$image.new" 2>/dev/null ||
    mkfs.ext4 -q -F -m 0 -E "root_owner=$owner" "$image.new"
  debugfs -w -R 'rmdir lost+found' "$image.new" >/dev/null 2>&1 || true
  mv "$image.new" "$image"
fi
device=$(losetup --noheadings --output NAME --associated "$image" | head -n 1)
try=1
while [ -z "$device" ]; do
  if device=$(losetup --find --show "$image"); then break; fi
  [ "$try" -lt "$attempts" ] || exit 4
  try=$((try + 1))
  device=
  sleep 0.2
done
ln -sfn "$device" "$link.new"
mv -T "$link.new" "$link"
echo "$device"
`;

// release <image> <link>: detaches every loop device that holds the image, then removes the image and its link.
const RELEASE_SCRIPT = `
set -eu
image=$1 link=$2
if [ -e "$image" ]; then
  for device in $(losetup --noheadings --output NAME --associated "$image"); do losetup --detach "$device"; done
fi
rm -f "$image" "$image.new" "$link" "$link.new"
`;

/** The files of one volume's disk: its image, and the link to its loop device that Docker mounts. */
export function workspaceDiskFiles(directory: string, volume: string): { image: string; link: string } {
  const image = path.join(directory, `${volume}.img`);
  return { image, link: `${image}.loop` };
}

/**
 * Makes the disk of volume `volume` (when it has none yet) and attaches it; returns the Docker volume's driver options
 * and labels (the local driver mounts the loop device as ext4) that make the volume use it.
 */
export async function createWorkspaceDisk(
  disk: WorkspaceDiskOptions,
  volume: string,
): Promise<{ driverOptions: Record<string, string>; labels: Record<string, string> }> {
  await mkdir(disk.directory, { recursive: true });
  const { image, link } = workspaceDiskFiles(disk.directory, volume);
  await runLocked(disk.directory, ATTACH_SCRIPT, ['create', image, link, String(disk.quotaBytes), SANDBOX_USER]);
  return {
    driverOptions: { type: 'ext4', device: link, o: 'nodev,nosuid' },
    labels: { [WORKSPACE_DISK_LABEL]: image },
  };
}

/**
 * Makes sure the disk image behind a volume's labels (`WORKSPACE_DISK_LABEL`) is attached to a loop device and that
 * the link Docker mounts points at it, before a container mounts the volume: after a host reboot (or a detach) its
 * loop device is gone or holds another file, so this runs before every new container. A volume with no disk is left
 * as it is.
 */
export async function attachWorkspaceDisk(labels: Record<string, string> | null | undefined): Promise<void> {
  const image = labels?.[WORKSPACE_DISK_LABEL];
  if (image === undefined) return;
  await runLocked(path.dirname(image), ATTACH_SCRIPT, ['attach', image, `${image}.loop`, '0', SANDBOX_USER]);
}

/**
 * Detaches and deletes a disk image (the value of a removed volume's `WORKSPACE_DISK_LABEL`) and its link; nothing
 * happens when `image` is `undefined` or gone. Call it once Docker removed the volume (its file system is unmounted).
 */
export async function releaseWorkspaceDisk(image: string | undefined): Promise<void> {
  if (image === undefined) return;
  await runLocked(path.dirname(image), RELEASE_SCRIPT, [image, `${image}.loop`]);
}

/**
 * Checks at start-up that this host can give workspaces a quota: makes, attaches and releases a disk of the smallest
 * size in `disk.directory`. Rejects with what failed (no loop device, not root, a missing `losetup` or `mkfs.ext4`) and
 * the way out, `KEEL_SANDBOX_DISK_QUOTA=off`.
 */
export async function checkWorkspaceDisks(disk: WorkspaceDiskOptions): Promise<void> {
  const probe = `keel-disk-check-${process.pid}-${Date.now()}`;
  const { image } = workspaceDiskFiles(disk.directory, probe);
  try {
    await createWorkspaceDisk({ ...disk, quotaBytes: MIN_WORKSPACE_DISK_BYTES }, probe);
  } catch (error) {
    throw new Error(
      `KEEL_SANDBOX_DISK_QUOTA: this worker cannot give sandbox workspaces a disk quota (${
        error instanceof Error ? error.message : String(error)
      }). It needs to run as root on the Docker engine's host, with loop devices (/dev/loop-control), flock, losetup ` +
        `and mkfs.ext4, and a writable KEEL_SANDBOX_DISK_DIR (${disk.directory}). Set KEEL_SANDBOX_DISK_QUOTA=off to run ` +
        'sandboxes without a disk quota.',
      { cause: error },
    );
  } finally {
    await releaseWorkspaceDisk(image).catch(() => undefined);
  }
}

/**
 * Runs a script with `sh` under an exclusive lock of `directory` (`flock`), so two workers of one host never race; it
 * is started off the event loop (`execFileOffThread`), as every session's provisioning and release runs one.
 */
async function runLocked(directory: string, script: string, args: string[]): Promise<string> {
  const argv = ['-w', String(LOCK_WAIT_SECONDS), directory, 'sh', '-c', script, 'keel-workspace-disk', ...args];
  if (script === ATTACH_SCRIPT) argv.push(String(ATTACH_ATTEMPTS));
  try {
    const { stdout } = await execFileOffThread({
      file: 'flock',
      args: argv,
      env: { PATH: SEARCH_PATH, LC_ALL: 'C' },
      timeoutMs: DISK_COMMAND_TIMEOUT_MS,
    });
    return stdout.trim();
  } catch (error) {
    const stderr = error instanceof OffThreadCommandError ? error.stderr : '';
    const reason = stderr.trim().split('\n').pop() || (error as Error).message;
    throw new Error(`workspace disk: ${reason}`, { cause: error });
  }
}
