/** Where a session's custom skills are mounted, read-only, in its sandbox: one folder per skill, `/mnt/skills/<name>`. */
export const SKILL_MOUNT_ROOT = '/mnt/skills';

/** The blob key prefix of skill files: each file's content by its SHA-256 (`skills/<sha256>`), written once. */
export const SKILL_BLOB_PREFIX = 'skills/';

/** One file of a skill version: its path inside the skill's folder (`SKILL.md`, `scripts/x.py`) and its content's hash. */
export interface SkillFileRef {
  path: string;
  sha256: string;
  sizeBytes: number;
}

/**
 * A skill version a session's sandbox mounts: fixed when the session is created (the worker reads it from the
 * control-plane store's `session_skills` table), so a later change of the agent or the skill does not move it.
 */
export interface SandboxSkillMount {
  skillId: string;
  versionId: string;
  /** The skill's slug: the folder under `SKILL_MOUNT_ROOT`. */
  name: string;
  /** The version's description (SKILL.md's front matter), for the system prompt's skills section. */
  description: string;
  files: SkillFileRef[];
}

/**
 * A `session_skills` row (migration 10), as the server's repositories and the worker's readers both select it: the
 * version a session pinned, with its files as JSON.
 */
export interface SessionSkillRow {
  skill_id: string;
  skill_version_id: string;
  name: string;
  description: string;
  files: string;
}

/** A session's skill mount from its `session_skills` row. */
export function toSkillMount(row: SessionSkillRow): SandboxSkillMount {
  return {
    skillId: row.skill_id,
    versionId: row.skill_version_id,
    name: row.name,
    description: row.description,
    files: JSON.parse(row.files) as SkillFileRef[],
  };
}

/** The worker's reader of which skills each session mounts (the server records them at session creation). */
export interface SessionSkillRows {
  mountsOf(sessionId: string): Promise<SandboxSkillMount[]>;
}

/** The blob key of a skill file's content. */
export function skillFileKey(sha256: string): string {
  return `${SKILL_BLOB_PREFIX}${sha256}`;
}

/** Where a skill is mounted in the sandbox. */
export function skillMountPath(name: string): string {
  return `${SKILL_MOUNT_ROOT}/${name}`;
}
