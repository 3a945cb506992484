import type { SandboxSkillMount, SkillFileRef } from '../../common/skills';
import type { PageRequest, StoredPage, WorkspaceListRequest } from './control-plane-store';

/** A custom skill as stored: a named folder of files whose uploads are its immutable versions. */
export interface StoredSkill {
  id: string;
  /** The workspace the record belongs to (see common/workspace.ts); a key of another workspace never sees it. */
  workspaceId: string;
  createdAt: string;
  /** When the latest version changed. */
  updatedAt: string;
  displayName: string;
  /** The immutable slug from the first upload's SKILL.md `name`; every version has it. */
  name: string;
  latestVersionId: string;
}

/** One upload of a skill; never changes once written. Its files' content is in the blob store (`skillFileKey`). */
export interface StoredSkillVersion {
  id: string;
  skillId: string;
  createdAt: string;
  name: string;
  description: string;
  files: SkillFileRef[];
}

/** What deleting a version did. */
export type SkillVersionDeleteOutcome = 'deleted' | 'not_found' | 'only_version';

/**
 * Skills and their versions. Every version call names its skill, so a version id under another skill is unknown;
 * deleting a skill deletes its versions. A skill always has at least one version, and `latestVersionId` is its newest.
 */
export interface SkillRepository {
  /** Stores a new skill with its first version, in one transaction. */
  insertSkill(skill: StoredSkill, version: StoredSkillVersion): Promise<void>;
  getSkill(id: string): Promise<StoredSkill | null>;
  /** Skills, newest first. */
  listSkills(request: WorkspaceListRequest): Promise<StoredPage<StoredSkill>>;
  /** Removes the skill with its versions; resolves to whether it existed. */
  deleteSkill(id: string): Promise<boolean>;
  /** Adds a version and makes it the latest, atomically; `null` when the skill is unknown. */
  insertVersion(version: StoredSkillVersion): Promise<StoredSkill | null>;
  getVersion(skillId: string, versionId: string): Promise<StoredSkillVersion | null>;
  /** The skill's versions, newest first (an unknown skill has none). */
  listVersions(skillId: string, request: PageRequest): Promise<StoredPage<StoredSkillVersion>>;
  /** Removes a version (not the only one: a skill holds at least one); the newest left becomes the latest. */
  deleteVersion(skillId: string, versionId: string, at: string): Promise<SkillVersionDeleteOutcome>;
  /** Records the skill versions a new session mounts, for the worker, which mounts them into its sandbox. */
  attachToSession(sessionId: string, mounts: readonly SandboxSkillMount[], at: string): Promise<void>;
  /** The skill versions a session mounts, in name order (none for most sessions). */
  sessionSkills(sessionId: string): Promise<SandboxSkillMount[]>;
}
