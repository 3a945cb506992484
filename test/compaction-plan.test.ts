import { describe, expect, it } from 'vitest';
import {
  chunkTranscript,
  estimateJsonTokens,
  planCompaction,
  renderTranscript,
} from '../activities/model/compaction-plan';
import type { CompactionPlan } from '../activities/model/compaction-plan';
import type { MessageParam } from '../common/model';

function userText(text: string): MessageParam {
  return { role: 'user', content: [{ type: 'text', text }] };
}

function assistantText(text: string): MessageParam {
  return { role: 'assistant', content: [{ type: 'text', text }] };
}

function assistantToolUses(ids: string[]): MessageParam {
  return {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Running the tools.' },
      ...ids.map((id) => ({ type: 'tool_use' as const, id, name: 'bash', input: { command: `run ${id}` } })),
    ],
  };
}

function userToolResults(ids: string[], outputChars: number): MessageParam {
  return {
    role: 'user',
    content: ids.map((id) => ({
      type: 'tool_result' as const,
      tool_use_id: id,
      content: `${id}: ${'o'.repeat(outputChars)}`,
      is_error: false,
    })),
  };
}

// A session of `steps` tool steps (one or two tool calls each) after a first user message, ending with a text reply.
function toolSession(steps: number, outputChars: number): MessageParam[] {
  const messages: MessageParam[] = [userText('Fix the failing build.')];
  for (let step = 0; step < steps; step++) {
    const ids = step % 3 === 0 ? [`toolu_${step}_a`, `toolu_${step}_b`] : [`toolu_${step}`];
    messages.push(assistantToolUses(ids), userToolResults(ids, outputChars));
  }
  messages.push(assistantText('The build passes now.'));
  return messages;
}

function messageTokens(messages: MessageParam[]): number {
  return messages.reduce((sum, message) => sum + estimateJsonTokens(message), 0);
}

function blocksOf(message: MessageParam): Exclude<MessageParam['content'], string> {
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
}

function expectToolPairsKept(plan: CompactionPlan): void {
  const toolUseIds = plan.recent.flatMap((message) =>
    blocksOf(message).flatMap((block) => (block.type === 'tool_use' ? [block.id] : [])),
  );
  const toolResultIds = plan.recent.flatMap((message) =>
    blocksOf(message).flatMap((block) => (block.type === 'tool_result' ? [block.tool_use_id] : [])),
  );
  expect(new Set(toolResultIds)).toEqual(new Set(toolUseIds));
}

describe('planCompaction', () => {
  it('cuts just before an assistant message, the older part before it and the recent part from it', () => {
    const messages = toolSession(40, 1_000);
    const plan = planCompaction(messages, 3_000, 100_000);
    expect(plan).not.toBeNull();
    if (plan === null) return;
    expect(plan.recent[0]?.role).toBe('assistant');
    expect(plan.older.at(-1)?.role).toBe('user');
    expect([...plan.older, ...plan.recent]).toEqual(messages);
    expect(plan.older.length).toBeGreaterThan(0);
  });

  it('keeps every tool_use of the recent part with its tool_result, whatever the recent budget', () => {
    const messages = toolSession(30, 700);
    for (let keepRecentTokens = 0; keepRecentTokens <= 12_000; keepRecentTokens += 250) {
      const plan = planCompaction(messages, keepRecentTokens, 1_000_000);
      expect(plan).not.toBeNull();
      if (plan === null) return;
      expect(plan.recent[0]?.role).toBe('assistant');
      expectToolPairsKept(plan);
    }
  });

  it('keeps the longest recent part that fits keepRecentTokens', () => {
    const messages = toolSession(40, 1_000);
    const keepRecentTokens = 5_000;
    const plan = planCompaction(messages, keepRecentTokens, 100_000);
    expect(plan).not.toBeNull();
    if (plan === null) return;
    expect(messageTokens(plan.recent)).toBeLessThanOrEqual(keepRecentTokens);
    // Starting at the assistant message before the cut would not fit.
    const previousAssistant = plan.older.findLastIndex((message) => message.role === 'assistant');
    expect(previousAssistant).toBeGreaterThan(0);
    expect(messageTokens(messages.slice(previousAssistant))).toBeGreaterThan(keepRecentTokens);
  });

  it('keeps the last assistant message and what follows when even that exceeds keepRecentTokens', () => {
    const messages = [
      userText('Start.'),
      assistantToolUses(['toolu_1']),
      userToolResults(['toolu_1'], 2_000),
      assistantToolUses(['toolu_2']),
      userToolResults(['toolu_2'], 40_000),
    ];
    const plan = planCompaction(messages, 1_000, 100_000);
    expect(plan).toEqual({ older: messages.slice(0, 3), recent: messages.slice(3) });
  });

  it('returns null for a conversation that is one huge user message', () => {
    expect(planCompaction([userText('x'.repeat(1_000_000))], 1_000, 10_000)).toBeNull();
  });

  it('returns null when no assistant message follows the first message', () => {
    expect(planCompaction([assistantText('Hello.'), userText('y'.repeat(100_000))], 1_000, 100_000)).toBeNull();
    expect(planCompaction([], 1_000, 100_000)).toBeNull();
  });

  it('returns null when the recent part it would keep exceeds maxRecentTokens', () => {
    const messages = [userText('Start.'), assistantToolUses(['toolu_1']), userToolResults(['toolu_1'], 200_000)];
    const recentTokens = estimateJsonTokens(messages.slice(1));
    expect(planCompaction(messages, 1_000, recentTokens - 1)).toBeNull();
    expect(planCompaction(messages, 1_000, recentTokens)).toEqual({
      older: messages.slice(0, 1),
      recent: messages.slice(1),
    });
  });
});

describe('renderTranscript', () => {
  it('renders one labelled entry per block: text, tool calls, tool results, tool errors and thinking', () => {
    const messages: MessageParam[] = [
      { role: 'user', content: 'Fix the build.' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Run make first.', signature: 'sig' },
          { type: 'text', text: 'Running make.' },
          { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'make' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'make: *** [all] Error 2', is_error: true },
          {
            type: 'tool_result',
            tool_use_id: 'toolu_2',
            content: [
              { type: 'text', text: 'first part' },
              { type: 'text', text: 'second part' },
            ],
            is_error: false,
          },
        ],
      },
    ];
    expect(renderTranscript(messages, 1_000)).toEqual([
      '[user] Fix the build.',
      '[assistant thinking] Run make first.',
      '[assistant] Running make.',
      '[assistant tool call bash] {"command":"make"}',
      '[user tool error] make: *** [all] Error 2',
      '[user tool result] first part\nsecond part',
    ]);
  });

  it('shortens a long entry to its head and tail and says how many characters were cut', () => {
    const output = `HEAD${'m'.repeat(50_000)}TAIL`;
    const [entry] = renderTranscript(
      [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: output, is_error: false }] }],
      100,
    );
    expect(entry).toBeDefined();
    if (entry === undefined) return;
    expect(entry.startsWith('[user tool result] HEAD')).toBe(true);
    expect(entry.endsWith('TAIL')).toBe(true);
    expect(entry).toContain(`[... ${output.length - 100} characters cut ...]`);
    expect(entry.length).toBeLessThan(100 + 80);
  });

  it('keeps an entry of exactly maxEntryChars whole', () => {
    const text = 'z'.repeat(100);
    expect(renderTranscript([userText(text)], 100)).toEqual([`[user] ${text}`]);
  });
});

describe('chunkTranscript', () => {
  it('packs entries in order into chunks whose entries stay within the chunk size', () => {
    const entries = Array.from({ length: 200 }, (_, index) => `[user tool result] entry ${index} ${'e'.repeat(index)}`);
    const maxChunkTokens = 500;
    const chunks = chunkTranscript(entries, maxChunkTokens);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('\n')).toBe(entries.join('\n'));
    let next = 0;
    for (const chunk of chunks) {
      const chunkEntries = chunk.split('\n');
      expect(chunkEntries).toEqual(entries.slice(next, next + chunkEntries.length));
      next += chunkEntries.length;
      const entryTokens = chunkEntries.reduce((sum, entry) => sum + Math.ceil(entry.length / 4), 0);
      expect(entryTokens).toBeLessThanOrEqual(maxChunkTokens);
    }
    expect(next).toBe(entries.length);
  });

  it('fills each chunk before starting the next', () => {
    const entries = Array.from({ length: 10 }, () => 'a'.repeat(40));
    expect(chunkTranscript(entries, 35).map((chunk) => chunk.split('\n').length)).toEqual([3, 3, 3, 1]);
  });

  it('puts an entry larger than the chunk size alone in its own chunk', () => {
    const entries = ['small one', 'b'.repeat(10_000), 'small two'];
    expect(chunkTranscript(entries, 100)).toEqual(entries);
  });

  it('returns no chunk for no entries', () => {
    expect(chunkTranscript([], 100)).toEqual([]);
  });
});
