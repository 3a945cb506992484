import { describe, expect, it } from 'vitest';
import { applyItem, EMPTY_TRANSCRIPT, RECONNECTED } from '../console/transcript';
import type { StreamedItem, TranscriptState } from '../console/transcript';

function applyAll(items: StreamedItem[], state: TranscriptState = EMPTY_TRANSCRIPT): TranscriptState {
  return items.reduce(applyItem, state);
}

const userMessage = { type: 'user.message', id: 'sevt_1', content: [{ type: 'text', text: 'hello' }] };
const running = { type: 'session.status_running', id: 'sevt_2' };
const toolUse = { type: 'agent.tool_use', id: 'sevt_3', name: 'bash', input: { command: 'ls' } };
const toolResult = {
  type: 'agent.tool_result',
  id: 'sevt_4',
  tool_use_id: 'sevt_3',
  content: [{ type: 'text', text: 'a.txt' }],
};
const delta = (text: string): StreamedItem => ({
  type: 'event_delta',
  event_id: 'sevt_5',
  delta: { type: 'content_delta', content: { type: 'text', text } },
});
const agentMessage = { type: 'agent.message', id: 'sevt_5', content: [{ type: 'text', text: 'Done here.' }] };
const idle = { type: 'session.status_idle', id: 'sevt_6', stop_reason: { type: 'end_turn' } };

describe('the console transcript reducer', () => {
  it('builds user, tool (with its result) and agent items, and the status, from a turn of events', () => {
    const state = applyAll([userMessage, running, toolUse, toolResult, agentMessage, idle]);
    expect(state.items).toEqual([
      { kind: 'user', id: 'sevt_1', text: 'hello' },
      { kind: 'status', id: 'sevt_2', text: 'Running' },
      { kind: 'tool', id: 'sevt_3', name: 'bash', input: { command: 'ls' }, result: 'a.txt', isError: false },
      { kind: 'agent', id: 'sevt_5', text: 'Done here.', streaming: false },
      { kind: 'status', id: 'sevt_6', text: 'Idle (end_turn)' },
    ]);
    expect(state.status).toBe('idle');
  });

  it('shows deltas as a streaming preview that the buffered event replaces in place, and ignores deltas after it', () => {
    const streaming = applyAll([userMessage, { type: 'event_start' }, delta('Done '), delta('he')]);
    expect(streaming.items.at(-1)).toEqual({ kind: 'agent', id: 'sevt_5', text: 'Done he', streaming: true });
    const done = applyAll([agentMessage, delta('late')], streaming);
    expect(done.items.filter((item) => item.id === 'sevt_5')).toEqual([
      { kind: 'agent', id: 'sevt_5', text: 'Done here.', streaming: false },
    ]);
  });

  it('drops an event it already applied, so the history listing and the live stream may overlap', () => {
    const once = applyAll([userMessage, running, toolUse]);
    const twice = applyAll([userMessage, running, toolUse, toolResult], once);
    expect(twice.items.map((item) => item.id)).toEqual(['sevt_1', 'sevt_2', 'sevt_3']);
    expect(twice.items[2]).toMatchObject({ result: 'a.txt' });
  });

  it('lists the tool calls a requires_action idle waits on until a confirmation answers them', () => {
    const waiting = applyAll([
      toolUse,
      { type: 'session.status_idle', id: 'sevt_7', stop_reason: { type: 'requires_action', event_ids: ['sevt_3'] } },
    ]);
    expect(waiting.awaitingConfirmation).toEqual(['sevt_3']);
    const answered = applyItem(waiting, {
      type: 'user.tool_confirmation',
      id: 'sevt_8',
      tool_use_id: 'sevt_3',
      result: 'deny',
    });
    expect(answered.awaitingConfirmation).toEqual([]);
    expect(answered.items[0]).toMatchObject({ kind: 'tool', answer: 'deny' });
  });
});

describe('the console transcript reducer, answers and reconnects', () => {
  const customUse = { type: 'agent.custom_tool_use', id: 'sevt_10', name: 'get_weather', input: { city: 'Oslo' } };
  const waitingOnCustom = {
    type: 'session.status_idle',
    id: 'sevt_11',
    stop_reason: { type: 'requires_action', event_ids: ['sevt_10'] },
  };

  it('marks a custom tool call as custom, and its user.custom_tool_result answers it with the result text', () => {
    const waiting = applyAll([customUse, waitingOnCustom]);
    expect(waiting.items[0]).toEqual({
      kind: 'tool',
      id: 'sevt_10',
      name: 'get_weather',
      input: { city: 'Oslo' },
      custom: true,
    });
    expect(waiting.awaitingConfirmation).toEqual(['sevt_10']);
    const answered = applyItem(waiting, {
      type: 'user.custom_tool_result',
      id: 'sevt_12',
      custom_tool_use_id: 'sevt_10',
      content: [{ type: 'text', text: '-12 C' }],
      is_error: false,
    });
    expect(answered.awaitingConfirmation).toEqual([]);
    expect(answered.items[0]).toMatchObject({ result: '-12 C', isError: false });
  });

  it("shows a denial's reason with the answer", () => {
    const denied = applyAll([
      toolUse,
      {
        type: 'user.tool_confirmation',
        id: 'sevt_9',
        tool_use_id: 'sevt_3',
        result: 'deny',
        deny_message: 'too risky',
      },
    ]);
    expect(denied.items[0]).toMatchObject({ answer: 'deny (too risky)' });
  });

  it('drops unfinished previews on a reconnect and keeps every logged event, so resumed deltas start clean', () => {
    const streaming = applyAll([userMessage, delta('Done '), delta('he')]);
    const reconnected = applyItem(streaming, RECONNECTED);
    expect(reconnected.items).toEqual([{ kind: 'user', id: 'sevt_1', text: 'hello' }]);
    const resumed = applyAll([delta('re.'), agentMessage], reconnected);
    expect(resumed.items.at(-1)).toEqual({ kind: 'agent', id: 'sevt_5', text: 'Done here.', streaming: false });
    expect(resumed.items).toHaveLength(2);
  });
});
