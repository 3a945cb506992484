import { describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../cli/demo-model/messages-wire';
import { droppedThinkingError } from './support/thinking-continuity';

type Message = MessagesRequest['messages'][number];

const thinkingBlock = { type: 'thinking', thinking: 'Let me look.', signature: 'c2lnbmF0dXJl' };
const toolUse = (id: string): Record<string, unknown> => ({ type: 'tool_use', id, name: 'bash', input: {} });
const toolResult = (id: string): Message => ({
  role: 'user',
  content: [{ type: 'tool_result', tool_use_id: id, content: 'ok' }],
});

function request(messages: Message[], thinking: unknown = { type: 'enabled', budget_tokens: 1024 }): MessagesRequest {
  return { model: 'claude-test', max_tokens: 4096, thinking, messages };
}

describe('droppedThinkingError', () => {
  it('names the first assistant message of the final turn when a later step of the loop follows it', () => {
    const messages: Message[] = [
      { role: 'user', content: 'earlier question' },
      { role: 'assistant', content: [thinkingBlock, { type: 'text', text: 'earlier answer' }] },
      { role: 'user', content: 'run two commands' },
      { role: 'assistant', content: [{ type: 'text', text: 'First.' }, toolUse('t1')] },
      toolResult('t1'),
      { role: 'assistant', content: [toolUse('t2')] },
      toolResult('t2'),
    ];
    expect(droppedThinkingError(request(messages), new Set())).toMatch(
      /^messages\.3\.content\.0\.type: Expected `thinking` or `redacted_thinking`, but found `text`\./,
    );
    expect(droppedThinkingError(request(messages, { type: 'adaptive' }), new Set())).toBeDefined();
    expect(droppedThinkingError(request(messages, { type: 'disabled' }), new Set())).toBeUndefined();
  });

  it('accepts a loop whose opening message keeps its thinking, even when later steps have none', () => {
    const messages: Message[] = [
      { role: 'user', content: 'run two commands' },
      { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'b3BhcXVl' }, toolUse('t1')] },
      toolResult('t1'),
      { role: 'assistant', content: [toolUse('t2')] },
      toolResult('t2'),
    ];
    expect(droppedThinkingError(request(messages), new Set(['t2']))).toBeUndefined();
  });

  it('does not check a new user turn, nor a loop with no sign that the model ever thought', () => {
    const newTurn: Message[] = [
      { role: 'user', content: 'list' },
      { role: 'assistant', content: [toolUse('t1')] },
      toolResult('t1'),
      { role: 'assistant', content: 'Listed.' },
      { role: 'user', content: 'thanks' },
    ];
    expect(droppedThinkingError(request(newTurn), new Set(['t1']))).toBeUndefined();
    const neverThought: Message[] = [
      { role: 'user', content: 'list' },
      { role: 'assistant', content: [toolUse('t1')] },
      toolResult('t1'),
    ];
    expect(droppedThinkingError(request(neverThought), new Set())).toBeUndefined();
    expect(droppedThinkingError(request(neverThought), new Set(['t1']))).toMatch(/^messages\.1\.content\.0\.type:/);
  });
});
