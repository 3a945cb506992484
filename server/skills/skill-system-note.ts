import type { AgentSnapshot } from '../../common/agent';
import { skillMountPath } from '../../common/skills';
import type { SandboxSkillMount } from '../../common/skills';

/**
 * The section of the system prompt that tells the agent about its skills (as the Agent Skills overview describes:
 * only each skill's name and description are loaded up front; the agent reads SKILL.md, and what it points to, with
 * its tools when a task calls for the skill). Empty without skills.
 */
export function skillSystemNote(mounts: readonly SandboxSkillMount[]): string {
  if (mounts.length === 0) return '';
  const lines = [
    '# Skills',
    '',
    'Skills are folders of instructions, scripts and resources, mounted read-only in your sandbox. When a task ' +
      "matches a skill's description, read its SKILL.md first (for example with `cat`) and follow it; run its " +
      'scripts from where they are rather than copying them.',
  ];
  for (const mount of mounts) {
    lines.push('', `## ${mount.name}`, `Path: ${skillMountPath(mount.name)}/SKILL.md`, mount.description);
  }
  return lines.join('\n');
}

/**
 * The agent snapshot the session's model calls use: `agent` with the skills section after its system prompt. The
 * session object's `agent` (its view) keeps the agent's own system prompt.
 */
export function withSkillNote(agent: AgentSnapshot, mounts: readonly SandboxSkillMount[]): AgentSnapshot {
  const note = skillSystemNote(mounts);
  if (note === '') return agent;
  return { ...agent, system: agent.system === null || agent.system === '' ? note : `${agent.system}\n\n${note}` };
}
