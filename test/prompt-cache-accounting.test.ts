import { describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../cli/demo-model/messages-wire';
import {
  estimateInputTokens,
  mediaBlockTokens,
  prefixTokenCounts,
  promptBlocks,
} from '../cli/demo-model/prompt-blocks';
import {
  accountPromptCache,
  breakpointLimitError,
  cacheLookbackBlocks,
  prefixHashes,
} from './support/prompt-cache-accounting';
import type { PromptCacheAccount } from './support/prompt-cache-accounting';

const ephemeral = { type: 'ephemeral' } as const;
const longText = 'The stable part of the prompt. '.repeat(200); // About 1,550 tokens: over the minimum on its own.

function request(fields: Partial<MessagesRequest>): MessagesRequest {
  return { model: 'claude-test', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }], ...fields };
}

// A conversation of `turns` user / assistant pairs after a long system prompt, with a breakpoint on the last block.
function conversation(turns: number, breakpointOnLast = true): MessagesRequest {
  const messages: MessagesRequest['messages'] = [];
  for (let turn = 0; turn < turns; turn += 1) {
    messages.push({ role: 'user', content: [{ type: 'text', text: `question ${turn}` }] });
    messages.push({ role: 'assistant', content: [{ type: 'text', text: `answer ${turn}` }] });
  }
  const last = messages.at(-1)?.content;
  if (breakpointOnLast && Array.isArray(last)) last[0] = { ...last[0], cache_control: ephemeral };
  return request({ system: [{ type: 'text', text: longText }], messages });
}

// Accounts the requests in order against one cache, as the server does, and returns each account.
function accountInOrder(...requests: MessagesRequest[]): PromptCacheAccount[] {
  const cache = new Map<string, number>();
  return requests.map((each) => {
    const account = accountPromptCache(promptBlocks(each), cache);
    for (const write of account.writes) cache.set(write.hash, write.tokens);
    return account;
  });
}

describe('promptBlocks', () => {
  it('flattens tools, then system, then message blocks, a string system prompt or content being one text block', () => {
    const blocks = promptBlocks(
      request({
        tools: [{ name: 'bash', input_schema: { type: 'object' } }],
        system: 'You are terse.',
        messages: [
          { role: 'user', content: 'hi' },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'hello' },
              { type: 'tool_use', id: 't', name: 'bash', input: {} },
            ],
          },
        ],
      }),
    );
    expect(blocks.map((block) => block.path)).toEqual([
      'tools.0',
      'system.0',
      'messages.0.content.0',
      'messages.1.content.0',
      'messages.1.content.1',
    ]);
  });

  it('reads the same prompt whatever the key order and wherever the cache_control markers sit', () => {
    const plain = request({ system: [{ type: 'text', text: 'a' }], messages: [{ role: 'user', content: 'hi' }] });
    const marked = request({
      system: [{ text: 'a', cache_control: ephemeral, type: 'text' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
      ],
    });
    expect(prefixHashes(promptBlocks(marked))).toEqual(prefixHashes(promptBlocks(plain)));
    expect(estimateInputTokens(marked)).toBe(estimateInputTokens(plain));
    expect(promptBlocks(marked).map((block) => block.cacheControl)).toEqual([
      ephemeral,
      { type: 'ephemeral', ttl: '1h' },
    ]);
  });

  it('counts prefixes that never decrease and end at the request estimate, a base64 image at a flat charge', () => {
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(400_000) } };
    const withImage = request({
      messages: [{ role: 'user', content: [image, { type: 'text', text: 'what is it?' }] }],
    });
    const counts = prefixTokenCounts(promptBlocks(withImage));
    expect(counts[1]).toBeGreaterThan(counts[0] ?? Infinity);
    expect(counts.at(-1)).toBe(estimateInputTokens(withImage));
    expect(estimateInputTokens(withImage)).toBeGreaterThan(mediaBlockTokens);
    expect(estimateInputTokens(withImage)).toBeLessThan(mediaBlockTokens + 100);
  });

  it('puts the breakpoint of a top-level cache_control on the last block, and one inside a tool_result on the tool_result', () => {
    const automatic = promptBlocks(request({ cache_control: ephemeral, system: 'a' }));
    expect(automatic.map((block) => block.cacheControl)).toEqual([undefined, ephemeral]);
    const toolResult = {
      type: 'tool_result',
      tool_use_id: 't',
      content: [{ type: 'text', text: 'out', cache_control: ephemeral }],
    };
    const blocks = promptBlocks(request({ messages: [{ role: 'user', content: [toolResult] }] }));
    expect(blocks[0]?.cacheControl).toEqual(ephemeral);
    expect(blocks[0]?.canonical).not.toContain('cache_control');
  });
});

describe('accountPromptCache', () => {
  it('writes the prefix up to the breakpoint on the first request and reads it on the same request again', () => {
    const same = conversation(1);
    const total = estimateInputTokens(same);
    const [first, second] = accountInOrder(same, same);
    expect(first?.usage).toMatchObject({ cacheReadInputTokens: 0, cacheCreationInputTokens: total, inputTokens: 0 });
    expect(first?.usage.ephemeral5mInputTokens).toBe(total);
    expect(second?.usage).toMatchObject({ cacheReadInputTokens: total, cacheCreationInputTokens: 0, inputTokens: 0 });
  });

  it('writes nothing for a breakpoint prefix under 1,024 tokens and counts it all as input', () => {
    const short = request({ system: [{ type: 'text', text: 'short', cache_control: ephemeral }] });
    const [first, second] = accountInOrder(short, short);
    expect(first?.writes).toEqual([]);
    expect(second?.usage).toMatchObject({
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
      inputTokens: estimateInputTokens(short),
    });
  });

  it('reads the earlier prefix through the lookback when the breakpoint moves forward, and writes only the new part', () => {
    const earlier = conversation(2);
    const later = conversation(4);
    const [, second] = accountInOrder(earlier, later);
    const earlierTokens = estimateInputTokens(earlier);
    expect(second?.usage.cacheReadInputTokens).toBe(earlierTokens);
    expect(second?.usage.cacheCreationInputTokens).toBe(estimateInputTokens(later) - earlierTokens);
    expect(second?.usage.inputTokens).toBe(0);
  });

  it('finds a hit exactly 20 blocks back, and misses it 21 blocks back', () => {
    const cachedAt = conversation(1);
    // One system block plus two blocks per turn: 10 more turns put the breakpoint 20 blocks after the cached one.
    const [, withinLookback] = accountInOrder(cachedAt, conversation(1 + cacheLookbackBlocks / 2));
    expect(withinLookback?.usage.cacheReadInputTokens).toBe(estimateInputTokens(cachedAt));
    const beyond = conversation(1 + cacheLookbackBlocks / 2);
    beyond.messages.push({ role: 'user', content: [{ type: 'text', text: 'one more', cache_control: ephemeral }] });
    const previousLast = beyond.messages.at(-2)?.content;
    if (Array.isArray(previousLast)) previousLast[0] = { type: 'text', text: `answer ${cacheLookbackBlocks / 2}` };
    const [, outsideLookback] = accountInOrder(cachedAt, beyond);
    expect(outsideLookback?.usage.cacheReadInputTokens).toBe(0);
    expect(outsideLookback?.usage.cacheCreationInputTokens).toBe(estimateInputTokens(beyond));
  });

  it('reads the longest cached breakpoint prefix and splits the write by the TTL of each breakpoint', () => {
    const systemOnly = request({
      system: [{ type: 'text', text: longText, cache_control: { type: 'ephemeral', ttl: '1h' } }],
    });
    const withHistory = conversation(3);
    const systemBlock = withHistory.system as Array<Record<string, unknown>>;
    systemBlock[0] = { ...systemBlock[0], cache_control: { type: 'ephemeral', ttl: '1h' } };
    const [first, second] = accountInOrder(systemOnly, withHistory);
    const systemPrefix = prefixTokenCounts(promptBlocks(withHistory))[0] ?? 0;
    expect(first?.usage.ephemeral1hInputTokens).toBe(systemPrefix);
    expect(second?.usage).toMatchObject({
      cacheReadInputTokens: systemPrefix,
      cacheCreationInputTokens: estimateInputTokens(withHistory) - systemPrefix,
      ephemeral1hInputTokens: 0,
      ephemeral5mInputTokens: estimateInputTokens(withHistory) - systemPrefix,
    });
  });

  it('misses everything after a changed tool definition, because tools come first in the prefix', () => {
    const withTool = (description: string): MessagesRequest => ({
      ...conversation(1),
      tools: [{ name: 'bash', description, input_schema: { type: 'object' } }],
    });
    const [, changed] = accountInOrder(withTool('Run a command'), withTool('Run a shell command'));
    expect(changed?.usage.cacheReadInputTokens).toBe(0);
    expect(changed?.usage.cacheCreationInputTokens).toBe(estimateInputTokens(withTool('Run a shell command')));
  });

  it('counts the uncached tail after the last breakpoint as input', () => {
    const tailed = conversation(1);
    tailed.messages.push({ role: 'user', content: 'a new question, past the breakpoint' });
    const [account] = accountInOrder(tailed);
    const breakpointPrefix = prefixTokenCounts(promptBlocks(tailed)).at(-2) ?? 0;
    expect(account?.usage.cacheCreationInputTokens).toBe(breakpointPrefix);
    expect(account?.usage.inputTokens).toBe(estimateInputTokens(tailed) - breakpointPrefix);
  });
});

describe('breakpointLimitError', () => {
  it('accepts four breakpoints and refuses five with the API message', () => {
    const marked = (count: number): MessagesRequest =>
      request({
        messages: [
          {
            role: 'user',
            content: Array.from({ length: count }, (_, index) => ({
              type: 'text',
              text: `${index}`,
              cache_control: ephemeral,
            })),
          },
        ],
      });
    expect(breakpointLimitError(promptBlocks(marked(4)))).toBeUndefined();
    expect(breakpointLimitError(promptBlocks(marked(5)))).toBe(
      'A maximum of 4 blocks with cache_control may be provided. Found 5.',
    );
  });
});
