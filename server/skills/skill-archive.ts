import { zipSync } from 'fflate';
import type { Zippable } from 'fflate';
import type { BlobStore } from '../../common/blob-store';
import { skillFileKey } from '../../common/skills';
import type { StoredSkillVersion } from '../store/skill-repository';

/**
 * A skill version as the zip archive `versions.download` returns: its files under one top-level folder named after the
 * skill (`<name>/SKILL.md`, `<name>/scripts/…`), read from the blob store (`fflate` writes the archive).
 */
export async function skillArchive(version: StoredSkillVersion, blobs: BlobStore): Promise<Uint8Array> {
  const files: Zippable = {};
  for (const file of version.files) {
    const content = await blobs.get(skillFileKey(file.sha256));
    if (content === null)
      throw new Error(`Skill version ${version.id}: the blob store has no content for ${file.path}`);
    files[`${version.name}/${file.path}`] = content;
  }
  return zipSync(files);
}
