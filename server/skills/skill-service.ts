import { createHash } from 'node:crypto';
import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { BetaDeletedSkill, BetaSkill } from '@anthropic-ai/sdk/resources/beta/skills/skills';
import type { BetaDeletedSkillVersion, BetaSkillVersion } from '@anthropic-ai/sdk/resources/beta/skills/versions';
import type { BlobStore } from '../../common/blob-store';
import { skillFileKey } from '../../common/skills';
import type { SandboxSkillMount } from '../../common/skills';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import { ApiError, invalidField } from '../api-error';
import { toPageResponse } from '../page-query';
import { isResourceId, newResourceId, requireResourceId } from '../resource-ids';
import type { ControlPlaneStore, PageRequest } from '../store/control-plane-store';
import type { StoredSkill, StoredSkillVersion } from '../store/skill-repository';
import type { SkillUploadBody } from './read-skill-upload';
import { skillArchive } from './skill-archive';
import { checkDisplayName, checkSkillUpload } from './skill-upload-rules';
import type { CheckedSkillUpload } from './skill-upload-rules';
import { toSkillVersionView, toSkillView } from './skill-view';

/** The skills an agent names, as its definition stores them. */
type AgentSkills = BetaManagedAgentsAgent['skills'];

/** The version reference that means "the skill's newest version". */
const LATEST = 'latest';

/**
 * Custom skills and their immutable versions (`client.beta.skills`, `client.beta.skills.versions`): each upload's
 * files go to the blob store by content (`skills/<sha256>`), its metadata (SKILL.md's `name` and `description`) to
 * the control-plane store. Anthropic's pre-built skills are not available offline: none is listed, and an agent that
 * names one is refused.
 */
export class SkillService {
  constructor(
    private readonly store: ControlPlaneStore,
    private readonly blobs: BlobStore,
  ) {}

  /** Creates a skill from its first upload; `display_name` defaults to SKILL.md's `name`. */
  async create(body: SkillUploadBody): Promise<BetaSkill> {
    const upload = checkSkillUpload(body.files);
    const now = new Date().toISOString();
    const skillId = newResourceId('skill');
    const version = await this.storeVersion(skillId, upload, now);
    const skill: StoredSkill = {
      id: skillId,
      // The workspace-scoped store the server gives this service puts the record in the request's workspace.
      workspaceId: DEFAULT_WORKSPACE_ID,
      createdAt: now,
      updatedAt: now,
      displayName: body.displayName === null ? upload.name : checkDisplayName(body.displayName),
      name: upload.name,
      latestVersionId: version.id,
    };
    await this.store.skills.insertSkill(skill, version);
    return toSkillView(skill);
  }

  /** The skill, or a 404 (a 400 for a malformed id). */
  async retrieve(skillId: string): Promise<BetaSkill> {
    return toSkillView(await this.find(skillId));
  }

  /** Skills, newest first; `source: 'anthropic'` lists none (no pre-built skill is available offline). */
  async list(
    request: PageRequest & { source: string | null },
  ): Promise<{ data: BetaSkill[]; next_page: string | null }> {
    if (request.source !== null && request.source !== 'custom') return { data: [], next_page: null };
    return toPageResponse(await this.store.skills.listSkills(request), toSkillView);
  }

  /** Deletes the skill with all its versions (sessions that mount one keep their copy). */
  async delete(skillId: string): Promise<BetaDeletedSkill> {
    requireResourceId('skill', skillId, 'skill_id');
    if (!(await this.store.skills.deleteSkill(skillId))) throw skillNotFound(skillId);
    return { id: skillId, type: 'skill_deleted' };
  }

  /** Adds a version; its SKILL.md `name` must be the skill's (a skill's name never changes). */
  async createVersion(skillId: string, body: SkillUploadBody): Promise<BetaSkillVersion> {
    const skill = await this.find(skillId);
    const upload = checkSkillUpload(body.files);
    if (upload.name !== skill.name) {
      throw invalidField(
        'SKILL.md name',
        `"${upload.name}" is not the skill's name "${skill.name}", which never changes`,
      );
    }
    const version = await this.storeVersion(skillId, upload, new Date().toISOString());
    if ((await this.store.skills.insertVersion(version)) === null) throw skillNotFound(skillId);
    return toSkillVersionView(version);
  }

  /** The version (an id, or `latest`), or a 404. */
  async retrieveVersion(skillId: string, version: string): Promise<BetaSkillVersion> {
    return toSkillVersionView(await this.findVersion(skillId, version, 'version'));
  }

  /** The version's files as a zip archive under a folder named after the skill, and that archive's file name. */
  async downloadVersion(skillId: string, version: string): Promise<{ archive: Uint8Array; filename: string }> {
    const found = await this.findVersion(skillId, version, 'version');
    return { archive: await skillArchive(found, this.blobs), filename: `${found.name}.zip` };
  }

  /** The skill's versions, newest first; 404 for an unknown skill. */
  async listVersions(
    skillId: string,
    request: PageRequest,
  ): Promise<{ data: BetaSkillVersion[]; next_page: string | null }> {
    await this.find(skillId);
    return toPageResponse(await this.store.skills.listVersions(skillId, request), toSkillVersionView);
  }

  /** Deletes a version; the skill's only version cannot go (400: delete the skill). */
  async deleteVersion(skillId: string, version: string): Promise<BetaDeletedSkillVersion> {
    const found = await this.findVersion(skillId, version, 'version');
    const outcome = await this.store.skills.deleteVersion(skillId, found.id, new Date().toISOString());
    if (outcome === 'not_found') throw versionNotFound(skillId, found.id);
    if (outcome === 'only_version') {
      throw invalidField('version', `${found.id} is the only version of skill ${skillId}; delete the skill instead`);
    }
    return { id: found.id, type: 'skill_version_deleted' };
  }

  /**
   * Checks the `skills` of an agent (create, update, or a session's overrides): each custom skill exists in the
   * workspace, at the version named (`latest` when none), no skill twice and no two with one name (they would share a
   * folder); an Anthropic skill is refused, since none is available offline. Each problem is a 400 naming the entry.
   */
  async checkAgentSkills(skills: AgentSkills, field = 'skills'): Promise<void> {
    await this.resolve(skills, field);
  }

  /** The skill versions a new session of an agent with `skills` mounts (each skill's `latest` resolved now). */
  async forSession(skills: AgentSkills, field = 'agent.skills'): Promise<SandboxSkillMount[]> {
    return (await this.resolve(skills, field)).map((version) => ({
      skillId: version.skillId,
      versionId: version.id,
      name: version.name,
      description: version.description,
      files: version.files,
    }));
  }

  /** Records the skill versions a new session mounts (read by the worker when it provisions the sandbox). */
  async attachToSession(sessionId: string, mounts: readonly SandboxSkillMount[]): Promise<void> {
    if (mounts.length > 0) await this.store.skills.attachToSession(sessionId, mounts, new Date().toISOString());
  }

  /** The skill versions a session mounts. */
  async sessionSkills(sessionId: string): Promise<SandboxSkillMount[]> {
    return this.store.skills.sessionSkills(sessionId);
  }

  private async resolve(skills: AgentSkills, field: string): Promise<StoredSkillVersion[]> {
    const versions: StoredSkillVersion[] = [];
    for (const [index, entry] of skills.entries()) {
      const at = `${field}[${index}]`;
      if (entry.type === 'anthropic') {
        throw invalidField(
          `${at}.skill_id`,
          `"${entry.skill_id}" is an Anthropic pre-built skill, which this self-hosted server cannot run offline; ` +
            'upload it as a custom skill (client.beta.skills.create) and use {type: "custom"}',
        );
      }
      if (!isResourceId('skill', entry.skill_id)) {
        throw invalidField(`${at}.skill_id`, `expected a skill id (skill_…), got "${entry.skill_id.slice(0, 80)}"`);
      }
      if (versions.some((version) => version.skillId === entry.skill_id)) {
        throw invalidField(`${at}.skill_id`, `${entry.skill_id} is listed twice`);
      }
      const skill = await this.store.skills.getSkill(entry.skill_id);
      if (skill === null) throw invalidField(`${at}.skill_id`, `no skill ${entry.skill_id} in this workspace`);
      const wanted = entry.version === null || entry.version === '' ? LATEST : entry.version;
      const versionId = wanted === LATEST ? skill.latestVersionId : wanted;
      const version = await this.store.skills.getVersion(skill.id, versionId);
      if (version === null) throw invalidField(`${at}.version`, `skill ${skill.id} has no version ${wanted}`);
      if (versions.some((other) => other.name === version.name)) {
        throw invalidField(`${at}.skill_id`, `another skill of the agent is named "${version.name}" too`);
      }
      versions.push(version);
    }
    return versions;
  }

  private async storeVersion(skillId: string, upload: CheckedSkillUpload, at: string): Promise<StoredSkillVersion> {
    const files = [];
    for (const file of upload.files) {
      const sha256 = createHash('sha256').update(file.content).digest('hex');
      await this.blobs.put(skillFileKey(sha256), file.content);
      files.push({ path: file.path, sha256, sizeBytes: file.content.length });
    }
    return {
      id: newResourceId('skill_version'),
      skillId,
      createdAt: at,
      name: upload.name,
      description: upload.description,
      files,
    };
  }

  private async find(skillId: string): Promise<StoredSkill> {
    requireResourceId('skill', skillId, 'skill_id');
    const found = await this.store.skills.getSkill(skillId);
    if (found === null) throw skillNotFound(skillId);
    return found;
  }

  private async findVersion(skillId: string, version: string, field: string): Promise<StoredSkillVersion> {
    const skill = await this.find(skillId);
    const versionId = version === LATEST ? skill.latestVersionId : version;
    requireResourceId('skill_version', versionId, field);
    const found = await this.store.skills.getVersion(skillId, versionId);
    if (found === null) throw versionNotFound(skillId, versionId);
    return found;
  }
}

function skillNotFound(skillId: string): ApiError {
  return new ApiError('not_found_error', `No skill ${skillId}.`);
}

function versionNotFound(skillId: string, versionId: string): ApiError {
  return new ApiError('not_found_error', `Skill ${skillId} has no version ${versionId}.`);
}
