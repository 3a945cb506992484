import type { LoggedEvent } from '../../common/events';

/**
 * The fixed system prompt of every dream's session. The dream's `instructions`, when given, follow it under their own
 * heading; the memory store's note (where it is mounted, read and write) is added by the session like any mount's.
 */
export const DREAM_SYSTEM_PROMPT = [
  'You are dreaming: an offline pass that reorganises a memory store so that future sessions find what they need.',
  'The memory store is mounted as a folder of files; every change you make to its files is saved to the store.',
  'It starts as a copy of the store to reorganise. Read every file first. Then rewrite the store in place:',
  '- merge duplicates into one file, and keep one topic per file with a short, descriptive path;',
  '- where entries contradict each other, or the transcripts show an entry is stale, keep only the latest value;',
  '- fold in durable facts, decisions, preferences and lessons that the past sessions below show, and leave out',
  '  one-off details;',
  '- keep an index file (_index.md) at the top of the store that lists each file with one line on what it holds;',
  '- delete files whose content you moved elsewhere.',
  'Work only inside the memory store folder. When the store is reorganised, reply with a short summary of what you',
  'changed and end your turn.',
].join('\n');

/** The most characters of past-session transcripts a dream's first message carries, all sessions together. */
export const MAX_TRANSCRIPT_CHARACTERS = 60_000;

/** The system prompt of a dream's session: the fixed prompt, then the dream's instructions when it has some. */
export function dreamSystemPrompt(instructions: string | null): string {
  return instructions === null
    ? DREAM_SYSTEM_PROMPT
    : `${DREAM_SYSTEM_PROMPT}\n\n# Instructions for this dream\n\n${instructions}`;
}

/** A past session's transcript as the dream reads it: one line per message, tool call and error, oldest first. */
export function transcriptLines(events: readonly LoggedEvent[]): string[] {
  const lines: string[] = [];
  for (const { event } of events) {
    if (event.type === 'user.message' || event.type === 'agent.message') {
      const text = event.content
        .map((block) => (block.type === 'text' ? block.text : `[${block.type}]`))
        .join('\n')
        .trim();
      if (text !== '') lines.push(`${event.type === 'user.message' ? 'User' : 'Agent'}: ${text}`);
    } else if (event.type === 'agent.tool_use') {
      lines.push(`Agent used ${event.name}: ${JSON.stringify(event.input).slice(0, 500)}`);
    } else if (event.type === 'session.error') {
      lines.push(`Error: ${event.error.message}`);
    }
  }
  return lines;
}

/**
 * The dream's first message: where the store is mounted and the transcripts of its past sessions, each cut to an
 * equal share of `MAX_TRANSCRIPT_CHARACTERS` (its latest part kept, which holds the latest values).
 */
export function dreamFirstMessage(
  mountPath: string,
  transcripts: ReadonlyArray<{ sessionId: string; lines: string[] }>,
): string {
  const parts = [`Reorganise the memory store mounted at ${mountPath}.`];
  if (transcripts.length === 0) {
    parts.push('No past sessions were given: work from the memory store alone.');
    return parts.join('\n\n');
  }
  const share = Math.floor(MAX_TRANSCRIPT_CHARACTERS / transcripts.length);
  parts.push(`Transcripts of ${transcripts.length} past session(s) follow, oldest event first.`);
  for (const { sessionId, lines } of transcripts) {
    let text = lines.join('\n');
    if (text.length > share) text = `[earlier part left out]\n${text.slice(text.length - share)}`;
    parts.push(`<session id="${sessionId}">\n${text === '' ? '(no messages)' : text}\n</session>`);
  }
  return parts.join('\n\n');
}
