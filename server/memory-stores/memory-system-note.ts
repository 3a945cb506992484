import type { AgentSnapshot } from '../../common/agent';
import type { SessionMemoryStoreResourceRecord, SessionResourceRecord } from '../../common/session';

/**
 * The section of the system prompt that tells the agent about its memory stores (the hosted API adds "a note describing
 * each mount" to the system prompt): where each store is mounted, whether it may write there, what the store holds
 * (its description) and the attachment's instructions. Empty without memory stores.
 */
export function memorySystemNote(mounts: readonly SessionMemoryStoreResourceRecord[]): string {
  if (mounts.length === 0) return '';
  const lines = [
    '# Memory',
    '',
    'Persistent memory stores are mounted in your sandbox as directories of text files. What you write there is kept ' +
      'after this session ends and is there for later sessions, so read the relevant files before you start and ' +
      'record what is worth remembering (one topic per file, UTF-8 text, at most 100 kB each).',
  ];
  for (const mount of mounts) {
    const access = mount.access === 'read_only' ? 'read-only' : 'read and write';
    lines.push('', `## ${mount.mount_path} (${access}): ${mount.name}`);
    if (mount.description !== '') lines.push(mount.description);
    if (mount.instructions !== null && mount.instructions !== '') lines.push(`Instructions: ${mount.instructions}`);
  }
  return lines.join('\n');
}

/** The memory store resources among a session's resources. */
export function memoryStoreResources(resources: readonly SessionResourceRecord[]): SessionMemoryStoreResourceRecord[] {
  return resources.filter((resource) => resource.type === 'memory_store');
}

/**
 * The agent snapshot the session's model calls use: `agent` with the memory note after its system prompt. The session
 * object's `agent` (its view) keeps the agent's own system prompt.
 */
export function withMemoryNote(agent: AgentSnapshot, resources: readonly SessionResourceRecord[]): AgentSnapshot {
  const note = memorySystemNote(memoryStoreResources(resources));
  if (note === '') return agent;
  return { ...agent, system: agent.system === null || agent.system === '' ? note : `${agent.system}\n\n${note}` };
}
