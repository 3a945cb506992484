import type { SandboxSkillMount, SkillFileRef } from '../../common/skills';
import type { StoredSkill, StoredSkillVersion } from './skill-repository';

/** A `skills` row as both stores return it (`sequence` is text from PostgreSQL's `BIGINT`). */
export interface SkillRow {
  sequence: number | string;
  id: string;
  workspace_id: string;
  created_at: string;
  updated_at: string;
  display_name: string;
  name: string;
  latest_version_id: string;
}

/** A `skill_versions` row. */
export interface SkillVersionRow {
  sequence: number | string;
  id: string;
  skill_id: string;
  created_at: string;
  name: string;
  description: string;
  files: string;
}

/** The columns of a `skills` insert, in order. */
export const SKILL_COLUMNS = 'id, workspace_id, created_at, updated_at, display_name, name, latest_version_id';

/** The columns of a `skill_versions` insert, in order. */
export const SKILL_VERSION_COLUMNS = 'id, skill_id, created_at, name, description, files';

/** The columns of a `session_skills` insert, in order. */
export const SESSION_SKILL_COLUMNS = 'session_id, skill_id, skill_version_id, name, description, files, created_at';

/** The values of a `skills` insert. */
export function skillValues(skill: StoredSkill): unknown[] {
  return [
    skill.id,
    skill.workspaceId,
    skill.createdAt,
    skill.updatedAt,
    skill.displayName,
    skill.name,
    skill.latestVersionId,
  ];
}

/** The values of a `skill_versions` insert. */
export function skillVersionValues(version: StoredSkillVersion): unknown[] {
  return [
    version.id,
    version.skillId,
    version.createdAt,
    version.name,
    version.description,
    JSON.stringify(version.files),
  ];
}

/** The values of a `session_skills` insert. */
export function sessionSkillValues(sessionId: string, mount: SandboxSkillMount, at: string): unknown[] {
  return [sessionId, mount.skillId, mount.versionId, mount.name, mount.description, JSON.stringify(mount.files), at];
}

/** A stored skill from its row. */
export function toStoredSkill(row: SkillRow): StoredSkill {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    displayName: row.display_name,
    name: row.name,
    latestVersionId: row.latest_version_id,
  };
}

/** A stored version from its row. */
export function toStoredSkillVersion(row: SkillVersionRow): StoredSkillVersion {
  return {
    id: row.id,
    skillId: row.skill_id,
    createdAt: row.created_at,
    name: row.name,
    description: row.description,
    files: JSON.parse(row.files) as SkillFileRef[],
  };
}
