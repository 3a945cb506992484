import { describe, expect, it } from 'vitest';
import { MAX_CACHE_BREAKPOINTS, withCacheBreakpoints } from '../activities/model/cache-breakpoints';
import type { CachedPrompt } from '../activities/model/cache-breakpoints';
import type { MessagesRequest } from '../cli/demo-model/messages-wire';
import { promptBlocks } from '../cli/demo-model/prompt-blocks';
import type { MessageParam, Tool } from '../common/model';
import { accountPromptCache, breakpointLimitError } from './support/prompt-cache-accounting';
import type { PromptCacheUsage } from './support/prompt-cache-accounting';

const ephemeral = { type: 'ephemeral' };

function tool(name: string, description: string): Tool {
  return {
    name,
    description,
    input_schema: { type: 'object', properties: { command: { type: 'string', description: 'What to run.' } } },
  };
}

const tools: Tool[] = [
  tool('bash', 'Runs a shell command in the sandbox and returns its output, head and tail kept when it is long.'),
  tool('read', 'Reads a file of the workspace, with line numbers, from an optional offset and for an optional limit.'),
  tool('write', 'Writes a file of the workspace, creating the folders it needs and replacing what was there.'),
];

// About 1,500 tokens: an agent's system prompt, long enough to be cached on its own.
const system = 'You are a careful software engineer working in a sandbox. Explain what you do, then do it. '.repeat(65);

function userText(value: string): MessageParam {
  return { role: 'user', content: [{ type: 'text', text: value }] };
}

function assistantToolUse(id: string, command: string): MessageParam {
  return { role: 'assistant', content: [{ type: 'tool_use', id, name: 'bash', input: { command } }] };
}

function userToolResult(id: string, output: string): MessageParam {
  return { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: output, is_error: false }] };
}

// A conversation of `steps` tool steps after a first user message.
function toolLoop(steps: number): MessageParam[] {
  const messages: MessageParam[] = [userText('Build the project and fix what fails.')];
  for (let step = 1; step <= steps; step++) {
    messages.push(assistantToolUse(`toolu_${step}`, `make step-${step}`));
    messages.push(userToolResult(`toolu_${step}`, toolOutput(step)));
  }
  return messages;
}

// About 2 KB of tool output that differs from step to step.
function toolOutput(step: number): string {
  const lines: string[] = [];
  for (let line = 0; lines.join('\n').length < 2_048; line++) {
    lines.push(`step ${step} line ${line}: compiled src/module-${step}-${line}.ts in ${(step * 7 + line) % 97} ms`);
  }
  return lines.join('\n');
}

// The request as it goes over the wire (the JSON body the scripted model server parses).
function wireRequest(prompt: CachedPrompt): MessagesRequest {
  const body = {
    model: 'claude-sonnet-4-5',
    max_tokens: 1_024,
    messages: prompt.messages,
    ...(prompt.system === undefined ? {} : { system: prompt.system }),
    ...(prompt.tools.length === 0 ? {} : { tools: prompt.tools }),
  };
  return JSON.parse(JSON.stringify(body)) as MessagesRequest;
}

function breakpointPaths(prompt: CachedPrompt): string[] {
  return promptBlocks(wireRequest(prompt))
    .filter((block) => block.cacheControl !== undefined)
    .map((block) => block.path);
}

function deepFreeze<Value>(value: Value): Value {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('withCacheBreakpoints', () => {
  it('puts breakpoints on the last tool, the system prompt and the last block of the last two user messages', () => {
    const prompt = withCacheBreakpoints(tools, system, toolLoop(3));
    expect(breakpointPaths(prompt)).toEqual(['tools.2', 'system.0', 'messages.4.content.0', 'messages.6.content.0']);
    expect(prompt.tools[2]).toEqual({ ...tools[2], cache_control: ephemeral });
    expect(prompt.tools.slice(0, 2)).toEqual(tools.slice(0, 2));
    expect(prompt.system).toEqual([{ type: 'text', text: system, cache_control: ephemeral }]);
  });

  it('never uses more than the four breakpoints the API allows, whatever the conversation', () => {
    expect(MAX_CACHE_BREAKPOINTS).toBe(4);
    const shapes: Array<[Tool[], string | null, MessageParam[]]> = [
      [tools, system, toolLoop(20)],
      [[], system, toolLoop(20)],
      [tools, null, toolLoop(20)],
      [[], null, toolLoop(20)],
      [tools, system, [userText('one')]],
      [tools, system, []],
    ];
    for (const [shapeTools, shapeSystem, messages] of shapes) {
      const request = wireRequest(withCacheBreakpoints(shapeTools, shapeSystem, messages));
      const blocks = promptBlocks(request);
      expect(breakpointLimitError(blocks)).toBeUndefined();
      expect(blocks.filter((block) => block.cacheControl !== undefined).length).toBeLessThanOrEqual(4);
    }
  });

  it('marks only the last block of a user message with several blocks', () => {
    const messages: MessageParam[] = [
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'one', is_error: false },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'two', is_error: false },
          { type: 'text', text: 'and a note' },
        ],
      },
    ];
    expect(breakpointPaths(withCacheBreakpoints([], null, messages))).toEqual(['messages.0.content.2']);
  });

  it('turns a user message with string content into one text block carrying the breakpoint', () => {
    const prompt = withCacheBreakpoints([], null, [{ role: 'user', content: 'hello' }]);
    expect(prompt.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'hello', cache_control: ephemeral }] },
    ]);
  });

  it('gives no breakpoint to tools or system when there are none, and leaves assistant messages alone', () => {
    const messages = toolLoop(2);
    const prompt = withCacheBreakpoints([], null, messages);
    expect(prompt.tools).toEqual([]);
    expect(prompt.system).toBeUndefined();
    expect(prompt.messages[1]).toBe(messages[1]);
    expect(prompt.messages[3]).toBe(messages[3]);
    expect(breakpointPaths(prompt)).toEqual(['messages.2.content.0', 'messages.4.content.0']);
  });

  it('does not change the tools, the messages or their blocks it is given', () => {
    const givenTools = deepFreeze(structuredClone(tools));
    const messages = deepFreeze(toolLoop(4));
    const before = JSON.stringify({ givenTools, messages });
    const prompt = withCacheBreakpoints(givenTools, system, messages);
    expect(JSON.stringify({ givenTools, messages })).toBe(before);
    expect(prompt.messages).not.toBe(messages);
    expect(prompt.messages[8]).not.toBe(messages[8]);
    expect(prompt.messages[0]).toBe(messages[0]);
  });

  it('never puts a breakpoint on a thinking or redacted_thinking block', () => {
    const messages: MessageParam[] = [
      { role: 'user', content: [{ type: 'thinking', thinking: 'odd but allowed by the type', signature: 'sig' }] },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'I should list the files.', signature: 'sig' },
          { type: 'redacted_thinking', data: 'opaque' },
        ],
      },
      { role: 'user', content: [{ type: 'redacted_thinking', data: 'opaque' }] },
    ];
    const prompt = withCacheBreakpoints([], null, messages);
    expect(prompt.messages).toEqual(messages);
    expect(breakpointPaths(prompt)).toEqual([]);
  });

  it('keeps a user message with no blocks as it is', () => {
    const messages: MessageParam[] = [{ role: 'user', content: [] }];
    expect(withCacheBreakpoints([], null, messages).messages).toEqual(messages);
  });

  it('makes a 50-step tool loop read almost all of its input from the prompt cache from the second step on', () => {
    const accounts = runToolLoop(50, (messages) => withCacheBreakpoints(tools, system, messages));
    const fromSecondStep = accounts.slice(1);
    expect(cacheReadShare(fromSecondStep)).toBeGreaterThanOrEqual(0.9);
    // Every step reads what the previous one sent, so only the new step is not a cache read.
    for (const [index, usage] of fromSecondStep.entries()) {
      const previous = accounts[index];
      expect(usage.cacheReadInputTokens).toBe(previous === undefined ? 0 : totalTokens(previous));
      expect(totalTokens(usage) - usage.cacheReadInputTokens).toBeLessThan(1_000);
    }
  });

  it('reads nothing from the prompt cache in the same tool loop sent without breakpoints (the control)', () => {
    const accounts = runToolLoop(50, (messages) => ({ tools, system: [{ type: 'text', text: system }], messages }));
    expect(cacheReadShare(accounts.slice(1))).toBe(0);
  });
});

// Sends a tool loop of `steps` steps, each request built by `build`, and accounts each against one prompt cache.
function runToolLoop(steps: number, build: (messages: MessageParam[]) => CachedPrompt): PromptCacheUsage[] {
  const cache = new Map<string, number>();
  const messages: MessageParam[] = [userText('Build the project and fix what fails.')];
  const accounts: PromptCacheUsage[] = [];
  for (let step = 1; step <= steps; step++) {
    messages.push(assistantToolUse(`toolu_${step}`, `make step-${step}`));
    messages.push(userToolResult(`toolu_${step}`, toolOutput(step)));
    const blocks = promptBlocks(wireRequest(build(messages)));
    expect(breakpointLimitError(blocks)).toBeUndefined();
    const account = accountPromptCache(blocks, cache);
    for (const write of account.writes) cache.set(write.hash, write.tokens);
    accounts.push(account.usage);
  }
  return accounts;
}

function totalTokens(usage: PromptCacheUsage): number {
  return usage.inputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens;
}

function cacheReadShare(accounts: PromptCacheUsage[]): number {
  const read = accounts.reduce((sum, usage) => sum + usage.cacheReadInputTokens, 0);
  return read / accounts.reduce((sum, usage) => sum + totalTokens(usage), 0);
}
