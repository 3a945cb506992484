import type { ContentBlock, MessageParam, StopReason, Tool, Usage } from '@anthropic-ai/sdk/resources/messages';
import type { ConversationAddition, ConversationRef, ThinkingSettings } from './conversation';
import type { SessionUsage } from './session';

/**
 * Input of the `callModel` Activity: one Messages API request, JSON-plain. A session's conversation is stored
 * (`conversation` plus the `additions` since the last call, small); runs from before the conversation store passed
 * the whole conversation inline (`messages`), and their histories still replay with this input.
 */
export interface CallModelInput {
  sessionId: string;
  /** Id reserved by the Workflow for the `agent.message` this call may produce; live text deltas carry it. */
  messageEventId: string;
  model: string;
  /** The system prompt inline; `null` when there is none, or when `systemKey` names it. */
  system: string | null;
  /**
   * The system prompt as stored by an earlier call of the run (`CallModelResult.systemKey`): a long prompt crosses into
   * the history once per run instead of once per step.
   */
  systemKey?: string;
  maxTokens: number;
  /** The whole conversation inline (runs from before the conversation store). */
  messages?: MessageParam[];
  /** The stored conversation the call continues. */
  conversation?: ConversationRef;
  /** What the Workflow added since the last call: stored as one user fragment before the call. */
  additions?: ConversationAddition[];
  /** Names of the built-in tools offered; the Activity turns them into definitions, so history stays small. */
  toolNames: string[];
  /** Tools offered with their whole definition: the agent's custom tools and its MCP servers' tools. */
  extraTools?: Tool[];
  /** Extended thinking, when the agent asks for it. */
  thinking?: ThinkingSettings;
  /** Id reserved for the `agent.thinking` this call may produce (with thinking on); its live preview carries it. */
  thinkingEventId?: string;
  /**
   * Compact the stored conversation before the call (see `compactConversation`): the summarising calls and the model
   * call run in one Activity, so a compaction adds a few fields to the step's record rather than an Activity of its
   * own. A conversation that cannot be compacted fails the Activity with `CompactionLimitReached`.
   */
  compact?: CompactionSettings;
}

/** How a compaction cuts the conversation: the model's window, and about how much recent conversation to keep. */
export interface CompactionSettings {
  contextWindowTokens: number;
  keepRecentTokens: number;
}

/** What the compaction that preceded a model call did. */
export interface CompactionOutcome {
  /** Estimated prompt tokens before and after. */
  preCompactionTokens: number;
  postCompactionTokens: number;
  /** Usage of the summarising calls. */
  usage: SessionUsage;
}

/** Result of the `callModel` Activity: the final assistant message with its usage. */
export interface CallModelResult {
  content: ContentBlock[];
  stopReason: StopReason | null;
  usage: Usage;
  /** The stored conversation with the additions and this reply in it (absent for inline calls). */
  conversation?: ConversationRef;
  /** Where the inline system prompt of a call on a stored conversation was stored, for the next calls to name. */
  systemKey?: string;
  /** Present when the call compacted the conversation first (`CallModelInput.compact`). */
  compaction?: CompactionOutcome;
}

export type { ContentBlock, MessageParam, Tool, Usage };
