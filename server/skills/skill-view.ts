import type { BetaSkill } from '@anthropic-ai/sdk/resources/beta/skills/skills';
import type { BetaSkillVersion } from '@anthropic-ai/sdk/resources/beta/skills/versions';
import type { StoredSkill, StoredSkillVersion } from '../store/skill-repository';

/** The skill object of the hosted API (`BetaSkill`) for a stored skill; every skill Keel stores is `custom`. */
export function toSkillView(skill: StoredSkill): BetaSkill {
  return {
    id: skill.id,
    type: 'skill',
    display_name: skill.displayName,
    latest_version_id: skill.latestVersionId,
    source: { type: 'custom' },
    created_at: skill.createdAt,
    updated_at: skill.updatedAt,
  };
}

/** The skill version object (`BetaSkillVersion`) for a stored version. */
export function toSkillVersionView(version: StoredSkillVersion): BetaSkillVersion {
  return {
    id: version.id,
    type: 'skill_version',
    skill_id: version.skillId,
    name: version.name,
    description: version.description,
    created_at: version.createdAt,
  };
}
