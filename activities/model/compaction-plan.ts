import { estimateTokensOfChars } from '../../common/model-context';
import type { MessageParam } from '../../common/model';

/** Where a conversation is cut for compaction: the older part is summarised, the recent part is kept verbatim. */
export interface CompactionPlan {
  older: MessageParam[];
  recent: MessageParam[];
}

/** Estimates the tokens of JSON-plain content the way the harness does between reported counts: characters / 4. */
export function estimateJsonTokens(value: unknown): number {
  return estimateTokensOfChars(JSON.stringify(value).length);
}

/**
 * Chooses the cut: the recent part starts at an assistant message (so every `tool_use` in it keeps its
 * `tool_result`, which follows it, and the summary, a user message, can precede it) and is the longest such suffix
 * within `keepRecentTokens`; when even the last assistant message and what follows exceed that, the cut is just
 * before it. `null` when nothing can be cut: no assistant message after the first message, or a recent part larger
 * than `maxRecentTokens` (what is left of the window once the summary and the reply have their room).
 */
export function planCompaction(
  messages: MessageParam[],
  keepRecentTokens: number,
  maxRecentTokens: number,
): CompactionPlan | null {
  let suffixTokens = 0;
  let cut: number | null = null;
  for (let index = messages.length - 1; index >= 1; index--) {
    suffixTokens += estimateJsonTokens(messages[index]);
    if (messages[index]?.role !== 'assistant') continue;
    if (cut === null || suffixTokens <= keepRecentTokens) cut = index;
    if (suffixTokens > keepRecentTokens) break;
  }
  if (cut === null) return null;
  const recent = messages.slice(cut);
  if (estimateJsonTokens(recent) > maxRecentTokens) return null;
  return { older: messages.slice(0, cut), recent };
}

/**
 * The system context of the summarised part, kept verbatim: mid-conversation system messages (from `system.message`
 * events) hold for every later turn, so a compaction does not fold them into the summary. They become one system
 * message that follows the summary (a user message), as the Messages API wants them placed; none when there are none.
 */
export function keptSystemContext(older: MessageParam[]): MessageParam[] {
  const blocks = older.flatMap((message) => {
    if (message.role !== 'system') return [];
    return typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content;
  });
  return blocks.length === 0 ? [] : [{ role: 'system', content: blocks }];
}

/**
 * Renders messages as a plain-text transcript for the summarising call, one entry per block, each entry cut to
 * `maxEntryChars` (head and tail) so no single output can stop a compaction. System messages are left out: the
 * compacted conversation keeps them verbatim (`keptSystemContext`).
 */
export function renderTranscript(messages: MessageParam[], maxEntryChars: number): string[] {
  const entries: string[] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    const blocks =
      typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content;
    for (const block of blocks) {
      const text = blockText(block);
      if (text === null) continue;
      entries.push(`[${message.role}${text.label}] ${shorten(text.body, maxEntryChars)}`);
    }
  }
  return entries;
}

/** Packs transcript entries into chunks of at most `maxChunkTokens` each, in order. */
export function chunkTranscript(entries: string[], maxChunkTokens: number): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let tokens = 0;
  for (const entry of entries) {
    const entryTokens = estimateTokensOfChars(entry.length);
    if (current.length > 0 && tokens + entryTokens > maxChunkTokens) {
      chunks.push(current.join('\n'));
      current = [];
      tokens = 0;
    }
    current.push(entry);
    tokens += entryTokens;
  }
  if (current.length > 0) chunks.push(current.join('\n'));
  return chunks;
}

function blockText(block: Exclude<MessageParam['content'], string>[number]): { label: string; body: string } | null {
  switch (block.type) {
    case 'text':
      return { label: '', body: block.text };
    case 'tool_use':
      return { label: ` tool call ${block.name}`, body: JSON.stringify(block.input) };
    case 'tool_result': {
      const content = block.content;
      const body =
        typeof content === 'string'
          ? content
          : (content ?? []).map((part) => (part.type === 'text' ? part.text : `[${part.type}]`)).join('\n');
      return { label: block.is_error ? ' tool error' : ' tool result', body };
    }
    case 'thinking':
      return { label: ' thinking', body: block.thinking };
    default:
      return { label: '', body: `[${block.type}]` };
  }
}

/** `text` cut to `maxChars` around the middle (head and tail kept), saying how much was cut. */
export function shorten(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const half = Math.floor(maxChars / 2);
  return `${text.slice(0, half)} [... ${text.length - 2 * half} characters cut ...] ${text.slice(-half)}`;
}
