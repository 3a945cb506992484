import { describe, expect, it } from 'vitest';
import { estimateTokensOfChars } from '../common/model-context';
import type { CallModelResult, ContentBlock, MessageParam } from '../common/model';
import type { StoredConversationState } from '../common/session';
import { TOOL_NOT_RUN_TEXT } from '../workflows/conversation';
import { ConversationState, LEFT_OUT_MESSAGE_TEXT, LEFT_OUT_OUTPUT_TEXT } from '../workflows/conversation-state';

function toolUse(id: string): ContentBlock {
  return { type: 'tool_use', id, name: 'bash', input: { command: 'ls' }, caller: { type: 'direct' } };
}

function text(value: string): ContentBlock {
  return { type: 'text', text: value, citations: null };
}

function reply(
  content: ContentBlock[],
  head: string | null,
  tokens: { input: number; cacheRead?: number | null; cacheCreation?: number | null; output: number },
): CallModelResult {
  return {
    content,
    stopReason: content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn',
    usage: {
      cache_creation: null,
      cache_creation_input_tokens: tokens.cacheCreation ?? null,
      cache_read_input_tokens: tokens.cacheRead ?? null,
      inference_geo: null,
      input_tokens: tokens.input,
      output_tokens: tokens.output,
      output_tokens_details: null,
      server_tool_use: null,
      service_tier: null,
      speed: null,
    },
    ...(head === null ? {} : { conversation: { head } }),
  };
}

function storedState(fields: Partial<StoredConversationState>): StoredConversationState {
  return {
    ref: { head: 'conversation/abc' },
    additions: [],
    unansweredToolUseIds: [],
    reportedTokens: 0,
    addedTokens: 0,
    ...fields,
  };
}

describe('ConversationState construction', () => {
  it('ConversationState.empty starts a stored conversation with no head, no additions and a zero estimate', () => {
    const conversation = ConversationState.empty();
    expect(conversation.isInline).toBe(false);
    expect(conversation.inlineMessages).toEqual([]);
    expect(conversation.modelInput()).toEqual({ conversation: { head: null }, additions: [] });
    expect(conversation.promptEstimate()).toBe(0);
  });

  it('ConversationState.stored continues from the carried state and is not affected by later changes to it', () => {
    const carried = storedState({
      additions: [{ kind: 'user_text', text: 'hello' }],
      reportedTokens: 1_000,
      addedTokens: 22,
    });
    const conversation = ConversationState.stored(carried);
    carried.additions.push({ kind: 'user_text', text: 'added later' });
    carried.ref.head = 'conversation/other';
    expect(conversation.modelInput()).toEqual({
      conversation: { head: 'conversation/abc' },
      additions: [{ kind: 'user_text', text: 'hello' }],
    });
    expect(conversation.promptEstimate()).toBe(1_022);
  });

  it('ConversationState.inline keeps the messages inline and passes them whole to the model', () => {
    const messages: MessageParam[] = [{ role: 'user', content: 'hi' }];
    const conversation = ConversationState.inline(messages);
    expect(conversation.isInline).toBe(true);
    expect(conversation.inlineMessages).toEqual(messages);
    expect(conversation.modelInput()).toEqual({ messages });
  });
});

describe('ConversationState.addUserText', () => {
  it('adds an error result for every unanswered tool_use of the last reply before the user text', () => {
    const conversation = ConversationState.empty();
    conversation.acceptReply(
      reply([toolUse('toolu_1'), toolUse('toolu_2')], 'conversation/r1', { input: 10, output: 5 }),
    );
    conversation.addToolResult('toolu_1', { output: 'done', isError: false });
    conversation.addUserMessage([{ type: 'text', text: 'stop that' }]);
    expect(conversation.modelInput().additions).toEqual([
      { kind: 'tool_result', toolUseId: 'toolu_1', isError: false, text: 'done' },
      { kind: 'tool_result', toolUseId: 'toolu_2', isError: true, text: TOOL_NOT_RUN_TEXT },
      { kind: 'user_text', text: 'stop that' },
    ]);
    expect(conversation.snapshot().unansweredToolUseIds).toEqual([]);
  });

  it('adds one user_text addition per text block and no error results when every tool call was answered', () => {
    const conversation = ConversationState.empty();
    conversation.addUserMessage([
      { type: 'text', text: 'one' },
      { type: 'text', text: 'two' },
    ]);
    expect(conversation.modelInput().additions).toEqual([
      { kind: 'user_text', text: 'one' },
      { kind: 'user_text', text: 'two' },
    ]);
  });
});

describe('ConversationState.addToolResult', () => {
  it('adds a short output inline and grows the estimate by about a quarter of its characters', () => {
    const conversation = ConversationState.stored(
      storedState({ unansweredToolUseIds: ['toolu_1'], reportedTokens: 500 }),
    );
    const output = 'x'.repeat(4_000);
    conversation.addToolResult('toolu_1', { output, isError: false });
    expect(conversation.modelInput().additions).toEqual([
      { kind: 'tool_result', toolUseId: 'toolu_1', isError: false, text: output },
    ]);
    const growth = conversation.promptEstimate() - 500;
    expect(growth).toBeGreaterThanOrEqual(estimateTokensOfChars(4_000));
    expect(growth).toBeLessThan(estimateTokensOfChars(4_000) + 100);
    expect(conversation.snapshot().unansweredToolUseIds).toEqual([]);
  });

  it('adds a stored output by reference (contentKey) and grows the estimate by its stored length, not its empty output', () => {
    const inline = ConversationState.stored(storedState({ unansweredToolUseIds: ['toolu_1'] }));
    inline.addToolResult('toolu_1', { output: 'y'.repeat(80_000), isError: false });
    const byReference = ConversationState.stored(storedState({ unansweredToolUseIds: ['toolu_1'] }));
    byReference.addToolResult('toolu_1', {
      output: '',
      isError: true,
      contentKey: 'tool-output/0123abcd',
      chars: 80_000,
    });
    expect(byReference.modelInput().additions).toEqual([
      {
        kind: 'tool_result_ref',
        toolUseId: 'toolu_1',
        isError: true,
        contentKey: 'tool-output/0123abcd',
        chars: 80_000,
      },
    ]);
    expect(byReference.promptEstimate()).toBeGreaterThanOrEqual(estimateTokensOfChars(80_000));
    expect(byReference.promptEstimate()).toBe(inline.promptEstimate());
  });

  it('grows the estimate with every result added', () => {
    const conversation = ConversationState.empty();
    const estimates = [conversation.promptEstimate()];
    for (let index = 0; index < 5; index++) {
      conversation.addToolResult(`toolu_${index}`, { output: 'z'.repeat(1_000 * (index + 1)), isError: false });
      estimates.push(conversation.promptEstimate());
    }
    for (let index = 1; index < estimates.length; index++) {
      expect(estimates[index]).toBeGreaterThan(estimates[index - 1] ?? Infinity);
    }
  });
});

describe('ConversationState.acceptReply', () => {
  it('takes the new head, clears the additions and records the tool calls and the reported tokens', () => {
    const conversation = ConversationState.empty();
    conversation.addUserMessage([{ type: 'text', text: 'list the files' }]);
    conversation.acceptReply(
      reply([text('Listing.'), toolUse('toolu_a'), toolUse('toolu_b')], 'conversation/r1', {
        input: 100,
        cacheRead: 2_000,
        cacheCreation: 300,
        output: 40,
      }),
    );
    expect(conversation.modelInput()).toEqual({ conversation: { head: 'conversation/r1' }, additions: [] });
    expect(conversation.snapshot()).toEqual({
      ref: { head: 'conversation/r1' },
      additions: [],
      unansweredToolUseIds: ['toolu_a', 'toolu_b'],
      reportedTokens: 2_440,
      addedTokens: 0,
    });
    expect(conversation.promptEstimate()).toBe(2_440);
  });

  it('counts missing (null) cache fields as zero and keeps the old head when the reply has no conversation', () => {
    const conversation = ConversationState.stored(storedState({ ref: { head: 'conversation/old' } }));
    conversation.acceptReply(
      reply([text('Done.')], null, { input: 70, cacheRead: null, cacheCreation: null, output: 30 }),
    );
    expect(conversation.snapshot()).toMatchObject({
      ref: { head: 'conversation/old' },
      unansweredToolUseIds: [],
      reportedTokens: 100,
    });
  });
});

describe('ConversationState.acceptCompaction', () => {
  it('takes the compacted head, clears the additions and restarts the estimate from the compacted size', () => {
    const conversation = ConversationState.stored(storedState({ reportedTokens: 150_000 }));
    conversation.addUserMessage([{ type: 'text', text: 'more work' }]);
    conversation.acceptCompaction({ head: 'conversation/compacted' }, 12_000);
    expect(conversation.modelInput()).toEqual({ conversation: { head: 'conversation/compacted' }, additions: [] });
    expect(conversation.promptEstimate()).toBe(12_000);
  });
});

describe('ConversationState.leaveOutAdditions', () => {
  it('keeps every tool result as an error result with a note and replaces all user text by one note', () => {
    const conversation = ConversationState.stored(
      storedState({ unansweredToolUseIds: ['toolu_1', 'toolu_2'], reportedTokens: 1_000 }),
    );
    conversation.addToolResult('toolu_1', { output: 'huge '.repeat(50_000), isError: false });
    conversation.addToolResult('toolu_2', { output: '', isError: false, contentKey: 'tool-output/ff', chars: 900_000 });
    conversation.addUserMessage([
      { type: 'text', text: 'a'.repeat(400_000) },
      { type: 'text', text: 'and another' },
    ]);
    const before = conversation.promptEstimate();
    conversation.leaveOutAdditions();
    expect(conversation.modelInput().additions).toEqual([
      { kind: 'tool_result', toolUseId: 'toolu_1', isError: true, text: LEFT_OUT_OUTPUT_TEXT },
      { kind: 'tool_result', toolUseId: 'toolu_2', isError: true, text: LEFT_OUT_OUTPUT_TEXT },
      { kind: 'user_text', text: LEFT_OUT_MESSAGE_TEXT },
    ]);
    expect(conversation.promptEstimate()).toBeLessThan(before);
    expect(conversation.promptEstimate()).toBeLessThan(1_000 + 200);
  });

  it('leaves an inline conversation as it is', () => {
    const messages: MessageParam[] = [{ role: 'user', content: 'hi' }];
    const conversation = ConversationState.inline(messages);
    conversation.leaveOutAdditions();
    expect(conversation.modelInput()).toEqual({ messages });
  });
});

describe('ConversationState.snapshot', () => {
  it('round-trips through JSON (continue-as-new) to the same model input, estimate and pending tool calls', () => {
    const conversation = ConversationState.empty();
    conversation.addUserMessage([{ type: 'text', text: 'start' }]);
    conversation.acceptReply(
      reply([toolUse('toolu_1'), toolUse('toolu_2')], 'conversation/r1', { input: 10, cacheRead: 900, output: 20 }),
    );
    conversation.addToolResult('toolu_1', { output: 'ok', isError: false });
    const carried = JSON.parse(JSON.stringify(conversation.snapshot())) as StoredConversationState;
    const next = ConversationState.stored(carried);
    expect(next.modelInput()).toEqual(conversation.modelInput());
    expect(next.promptEstimate()).toBe(conversation.promptEstimate());
    next.addUserMessage([{ type: 'text', text: 'go on' }]);
    conversation.addUserMessage([{ type: 'text', text: 'go on' }]);
    expect(next.modelInput()).toEqual(conversation.modelInput());
  });

  it('is a copy: changing the conversation afterwards does not change a snapshot taken before', () => {
    const conversation = ConversationState.empty();
    const snapshot = conversation.snapshot();
    conversation.addUserMessage([{ type: 'text', text: 'later' }]);
    expect(snapshot.additions).toEqual([]);
  });
});

describe('ConversationState inline mode', () => {
  it('appends replies, tool results and user text to the inline messages', () => {
    const conversation = ConversationState.inline([{ role: 'user', content: 'list files' }]);
    conversation.acceptReply(reply([toolUse('toolu_1')], null, { input: 10, output: 5 }));
    conversation.addToolResult('toolu_1', { output: 'a.txt', isError: false });
    const input = conversation.modelInput();
    expect(input.conversation).toBeUndefined();
    expect(input.additions).toBeUndefined();
    expect(input.messages).toHaveLength(3);
    expect(input.messages?.at(-1)).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt', is_error: false }],
    });
  });

  it('switches to a reference after moveToStore, and later additions go by reference', () => {
    const conversation = ConversationState.inline([{ role: 'user', content: 'hello' }]);
    conversation.acceptReply(reply([text('Hi.')], null, { input: 10, output: 5 }));
    conversation.addUserMessage([{ type: 'text', text: 'and now?' }]);
    expect(conversation.modelInput().messages).toHaveLength(3);
    conversation.moveToStore({ head: 'conversation/moved' });
    expect(conversation.isInline).toBe(false);
    expect(conversation.inlineMessages).toEqual([]);
    expect(conversation.modelInput()).toEqual({ conversation: { head: 'conversation/moved' }, additions: [] });
    conversation.acceptReply(reply([toolUse('toolu_9')], 'conversation/r2', { input: 50, output: 5 }));
    conversation.addToolResult('toolu_9', { output: 'done', isError: false });
    expect(conversation.modelInput()).toEqual({
      conversation: { head: 'conversation/r2' },
      additions: [{ kind: 'tool_result', toolUseId: 'toolu_9', isError: false, text: 'done' }],
    });
  });

  it('ignores moveToStore on a conversation that is already stored', () => {
    const conversation = ConversationState.stored(storedState({ ref: { head: 'conversation/kept' } }));
    conversation.moveToStore({ head: 'conversation/ignored' });
    expect(conversation.modelInput().conversation).toEqual({ head: 'conversation/kept' });
  });
});
