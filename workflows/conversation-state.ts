import type { ConversationAddition, ConversationRef, ToolOutput } from '../common/conversation';
import type { TextBlock, UserContentBlock } from '../common/events';
import { estimateMediaTokens, estimateTokensOfChars } from '../common/model-context';
import type { CallModelInput, CallModelResult, MessageParam } from '../common/model';
import type { StoredConversationState } from '../common/session';
import { appendAssistantContent, appendUserContent, TOOL_NOT_RUN_TEXT, toolResultBlock } from './conversation';

/** What the model reads instead of a user message that did not fit its context window. */
export const LEFT_OUT_MESSAGE_TEXT =
  '[A user message was left out here: it was too large for the context window, even after compaction.]';

/** What the model reads instead of a tool output that did not fit its context window. */
export const LEFT_OUT_OUTPUT_TEXT =
  "The tool's output was left out: it was too large for the context window, even after compaction.";

/** Tokens the harness adds to its estimate for each block it appends (the block's JSON around its text). */
const BLOCK_OVERHEAD_TOKENS = 20;

/**
 * The session's conversation as the Workflow keeps it: a reference into the conversation store plus what was added
 * since the last model call (small), never the bodies. Sessions started before the store kept the messages inline;
 * they stay inline until `moveToStore` (their histories replay unchanged). Pure and JSON-plain, so the rules are unit
 * tested without Temporal and the state crosses continue-as-new as it is.
 */
export class ConversationState {
  private constructor(
    private inline: MessageParam[] | null,
    private state: StoredConversationState,
  ) {}

  /** An empty stored conversation (every new session). */
  static empty(): ConversationState {
    return ConversationState.stored({
      ref: { head: null },
      additions: [],
      unansweredToolUseIds: [],
      reportedTokens: 0,
      addedTokens: 0,
    });
  }

  /** A stored conversation carried over from the previous run. */
  static stored(state: StoredConversationState): ConversationState {
    return new ConversationState(null, JSON.parse(JSON.stringify(state)) as StoredConversationState);
  }

  /** A conversation kept inline, as sessions from before the conversation store have it. */
  static inline(messages: MessageParam[]): ConversationState {
    return new ConversationState(messages, {
      ref: { head: null },
      additions: [],
      unansweredToolUseIds: [],
      reportedTokens: 0,
      addedTokens: 0,
    });
  }

  /** Whether the messages are still inline (a session from before the store that has not moved yet). */
  get isInline(): boolean {
    return this.inline !== null;
  }

  /** The inline messages, to be stored by `storeConversation` when the session moves to the store. */
  get inlineMessages(): MessageParam[] {
    return this.inline ?? [];
  }

  /** Switches an inline conversation to the store, once its messages are stored under `ref`. */
  moveToStore(ref: ConversationRef): void {
    if (this.inline === null) return;
    this.inline = null;
    this.state = { ...this.state, ref };
  }

  /**
   * Adds a user message (text, images, documents) and the system message that came with it, if any; tool calls of
   * the last reply that never got a result get an error result first.
   */
  addUserMessage(content: UserContentBlock[], system: TextBlock[] = []): void {
    if (this.inline !== null) {
      this.inline = appendUserContent(
        this.inline,
        content.map((block) => (block.type === 'text' ? { type: 'text', text: block.text } : block)) as Parameters<
          typeof appendUserContent
        >[1],
      );
      if (system.length > 0) this.addSystemText(system);
      return;
    }
    for (const toolUseId of this.state.unansweredToolUseIds) {
      this.add({ kind: 'tool_result', toolUseId, isError: true, text: TOOL_NOT_RUN_TEXT }, TOOL_NOT_RUN_TEXT.length);
    }
    this.state.unansweredToolUseIds = [];
    for (const block of content) {
      if (block.type === 'text') this.add({ kind: 'user_text', text: block.text }, block.text.length);
      else {
        const tokens = estimateMediaTokens(block);
        this.add({ kind: 'user_media', block, tokens }, tokens * 4);
      }
    }
    this.addSystemText(system);
  }

  /** Adds system text (a `system.message`, with a user message or tool answers) after what was added so far. */
  addSystemText(system: TextBlock[]): void {
    if (this.inline !== null) {
      const text = system.map((block) => ({ type: 'text' as const, text: block.text }));
      this.inline = [...this.inline, { role: 'system', content: text }];
      return;
    }
    for (const block of system) this.add({ kind: 'system_text', text: block.text }, block.text.length);
  }

  /** Adds a tool call's result, inline or by reference to its stored output. */
  addToolResult(toolUseId: string, result: ToolOutput): void {
    this.state.unansweredToolUseIds = this.state.unansweredToolUseIds.filter((id) => id !== toolUseId);
    if (this.inline !== null) {
      const output =
        result.contentKey === undefined ? result.output : `[The output is stored under ${result.contentKey}.]`;
      this.inline = appendUserContent(this.inline, [toolResultBlock({ toolUseId, output, isError: result.isError })]);
      return;
    }
    if (result.contentKey === undefined) {
      this.add({ kind: 'tool_result', toolUseId, isError: result.isError, text: result.output }, result.output.length);
    } else {
      const chars = result.chars ?? 0;
      this.add(
        { kind: 'tool_result_ref', toolUseId, isError: result.isError, contentKey: result.contentKey, chars },
        chars,
      );
    }
  }

  /**
   * Replaces what the model has not seen yet with short notes (a tool result keeps its pairing as an error result),
   * after compaction could not make room for it, so the session's next message works.
   */
  leaveOutAdditions(): void {
    if (this.inline !== null) return;
    const additions = this.state.additions;
    this.state.additions = [];
    this.state.addedTokens = 0;
    let userNote = false;
    for (const addition of additions) {
      if (addition.kind === 'user_text' || addition.kind === 'user_media' || addition.kind === 'system_text') {
        if (!userNote) this.add({ kind: 'user_text', text: LEFT_OUT_MESSAGE_TEXT }, LEFT_OUT_MESSAGE_TEXT.length);
        userNote = true;
      } else {
        this.add(
          { kind: 'tool_result', toolUseId: addition.toolUseId, isError: true, text: LEFT_OUT_OUTPUT_TEXT },
          LEFT_OUT_OUTPUT_TEXT.length,
        );
      }
    }
  }

  /** What a model call carries: a reference and the additions, or (inline) the whole conversation. */
  modelInput(): Pick<CallModelInput, 'messages' | 'conversation' | 'additions'> {
    if (this.inline !== null) return { messages: this.inline };
    return { conversation: this.state.ref, additions: this.state.additions };
  }

  /** Takes the model's reply: it is stored (the new head), the additions are in it, and its tool calls await results. */
  acceptReply(result: CallModelResult): void {
    const toolUseIds = result.content.flatMap((block) => (block.type === 'tool_use' ? [block.id] : []));
    if (this.inline !== null) {
      this.inline = appendAssistantContent(this.inline, result.content);
      return;
    }
    const usage = result.usage;
    this.state = {
      ref: result.conversation ?? this.state.ref,
      additions: [],
      unansweredToolUseIds: toolUseIds,
      reportedTokens:
        usage.input_tokens +
        (usage.cache_read_input_tokens ?? 0) +
        (usage.cache_creation_input_tokens ?? 0) +
        usage.output_tokens,
      addedTokens: 0,
    };
  }

  /** Takes a compacted conversation: the additions were stored in it, and the estimate restarts from its size. */
  acceptCompaction(ref: ConversationRef, tokens: number): void {
    this.state = { ...this.state, ref, additions: [], reportedTokens: tokens, addedTokens: 0 };
  }

  /** The tokens the next model call's prompt is estimated to have: the last reported count plus the additions. */
  promptEstimate(): number {
    return this.state.reportedTokens + this.state.addedTokens;
  }

  /** The JSON-plain state, for continue-as-new. */
  snapshot(): StoredConversationState {
    return JSON.parse(JSON.stringify(this.state)) as StoredConversationState;
  }

  private add(addition: ConversationAddition, chars: number): void {
    this.state.additions.push(addition);
    this.state.addedTokens += estimateTokensOfChars(chars) + BLOCK_OVERHEAD_TOKENS;
  }
}
