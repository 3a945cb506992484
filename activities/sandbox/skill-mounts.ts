import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BlobStore } from '../../common/blob-store';
import { skillFileKey, skillMountPath } from '../../common/skills';
import type { SandboxSkillMount, SessionSkillRows } from '../../common/skills';

/** The folder inside `KEEL_DATA_DIR` that holds skill versions' files, one folder per version id. */
export const SKILLS_DIRECTORY_NAME = 'skills';

/** A skill version id: `skillver_` and letters and digits, so never a path of its own. */
const VERSION_ID = /^skillver_[0-9A-Za-z]{8,64}$/;

/** A read-only bind of a skill version's folder on the Docker host into a container. */
export interface SkillBind {
  source: string;
  target: string;
}

/** The skills of sessions seen lately: fixed when a session is created, so they are read once per worker. */
const sessionSkills = new Map<string, readonly SandboxSkillMount[]>();
const MAX_CACHED_SESSIONS = 10_000;

/** The skill versions the session mounts (none for most sessions), read from the store on the first call only. */
export async function skillMountsOf(rows: SessionSkillRows, sessionId: string): Promise<readonly SandboxSkillMount[]> {
  const cached = sessionSkills.get(sessionId);
  if (cached !== undefined) return cached;
  const mounts = await rows.mountsOf(sessionId);
  sessionSkills.set(sessionId, mounts);
  for (const oldest of sessionSkills.keys()) {
    if (sessionSkills.size <= MAX_CACHED_SESSIONS) break;
    sessionSkills.delete(oldest);
  }
  return mounts;
}

/**
 * Makes sure this machine has each skill version's files under `dataDir/skills/<version id>/<name>/` (fetched from the
 * blob store once: a version never changes, so a copy stays valid) and returns the binds that mount them read-only at
 * `/mnt/skills/<name>`. A copy is written in a temporary folder and renamed into place whole, so a concurrent
 * provisioning never mounts half a skill. Files are world-readable (the sandbox user reads them); the bind is
 * read-only, so nothing in the container can change them.
 */
export async function skillBinds(
  dataDir: string,
  mounts: readonly SandboxSkillMount[],
  blobs: BlobStore,
): Promise<SkillBind[]> {
  const binds: SkillBind[] = [];
  for (const mount of mounts) {
    if (!VERSION_ID.test(mount.versionId)) throw new RangeError(`Not a skill version id: "${mount.versionId}".`);
    const versionDirectory = path.join(dataDir, SKILLS_DIRECTORY_NAME, mount.versionId);
    if (!(await exists(versionDirectory))) await materialise(versionDirectory, mount, blobs);
    binds.push({ source: path.join(versionDirectory, mount.name), target: skillMountPath(mount.name) });
  }
  return binds;
}

async function materialise(versionDirectory: string, mount: SandboxSkillMount, blobs: BlobStore): Promise<void> {
  const temporary = `${versionDirectory}.tmp-${randomBytes(8).toString('hex')}`;
  const root = path.join(temporary, mount.name);
  try {
    await mkdir(root, { recursive: true });
    for (const file of mount.files) {
      const target = path.resolve(root, file.path);
      if (!target.startsWith(`${root}${path.sep}`)) throw new RangeError(`Skill file outside its folder: ${file.path}`);
      const content = await blobs.get(skillFileKey(file.sha256));
      if (content === null) throw new Error(`Skill ${mount.skillId}: the blob store has no content for ${file.path}`);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
      await chmod(target, 0o644);
    }
    await makeReadable(temporary);
    await rename(temporary, versionDirectory).catch(async (error: NodeJS.ErrnoException) => {
      // Another provisioning put the same version in place first: its copy is as good.
      if (!(await exists(versionDirectory))) throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Makes every folder under `directory` readable and searchable by all (whatever the worker's umask). */
async function makeReadable(directory: string): Promise<void> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeReadable(path.join(directory, entry.name));
  }
  await chmod(directory, 0o755);
}

function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
