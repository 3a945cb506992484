import type { SessionEvent } from '../common/events';

/**
 * The text of the last `agent.message` among `events` at or after index `from` (a thread's current turn), its text
 * blocks joined by blank lines; `null` when the turn said nothing.
 */
export function lastAgentText(events: readonly SessionEvent[], from: number): string | null {
  for (let index = events.length - 1; index >= Math.max(0, from); index -= 1) {
    const event = events[index];
    if (event?.type !== 'agent.message') continue;
    const text = event.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n\n');
    if (text.trim() !== '') return text;
  }
  return null;
}
