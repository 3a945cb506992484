import type { ContentBlock, MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import type { MediaBlock } from './events';
import type { SessionUsage } from './session';

/**
 * A stored conversation: the key of the last segment of a parent-linked chain in the blob store, or `null` for an
 * empty one. The session Workflow holds this reference, never the messages: the conversation the model sees is stored
 * once, content-addressed, and every worker and server of one Keel reads the same bytes.
 */
export interface ConversationRef {
  head: string | null;
}

/** The role of a stored fragment: the Messages API's two, plus mid-conversation `system` messages. */
export type ConversationRole = 'user' | 'assistant' | 'system';

/**
 * One stored segment: a fragment of one message (the user's text, a batch of tool results, or the assistant's reply)
 * and the key of the segment before it. Consecutive fragments of one role make one message, so appending tool results
 * never rewrites what is stored. A compaction starts a new chain whose root holds the summary.
 */
export interface ConversationSegment {
  parent: string | null;
  /** `system`: a mid-conversation system message (from a `system.message` event), for models that take them. */
  role: ConversationRole;
  blocks: StoredBlock[];
}

/**
 * A content block as stored: a Messages API block, except that a tool result's text may live in its own blob
 * (`contentKey`, the tool output as its Activity wrote it), so a large output is written once and only referenced.
 */
export type StoredBlock =
  | { type: 'tool_result'; tool_use_id: string; is_error: boolean; content: string }
  | { type: 'tool_result'; tool_use_id: string; is_error: boolean; contentKey: string }
  | { type: 'text'; text: string }
  | MediaBlock
  | ContentBlock;

/**
 * What the Workflow adds to the conversation between two model calls: user text, images and documents (from a
 * `user.message`), system text (from a `system.message`) and tool results, small (inline text) or by reference
 * (`contentKey`). `chars` is the text's length and `tokens` a medium's estimate, for the prompt estimate. A `file`
 * source stays a reference here: the model Activity reads the uploaded file when it builds the request.
 */
export type ConversationAddition =
  | { kind: 'user_text'; text: string }
  | { kind: 'user_media'; block: MediaBlock; tokens: number }
  | { kind: 'system_text'; text: string }
  | { kind: 'tool_result'; toolUseId: string; isError: boolean; text: string }
  | { kind: 'tool_result_ref'; toolUseId: string; isError: boolean; contentKey: string; chars: number };

/** The model request settings the Workflow passes with a stored conversation (tools by name stay small). */
export interface ModelRequestSettings {
  model: string;
  system: string | null;
  maxTokens: number;
  /** Names of the built-in tools offered; the Activity turns them into definitions. */
  toolNames: string[];
  /** Tools offered with their whole definition: the agent's custom tools and its MCP servers' tools. */
  extraTools?: Tool[];
  /** Extended thinking, as the agent's model config asks for it. */
  thinking?: ThinkingSettings;
}

/** Extended thinking of an agent: adaptive thinking at an effort level, or a fixed budget. */
export type ThinkingSettings =
  | { type: 'adaptive'; effort?: 'low' | 'medium' | 'high' | 'xhigh' | 'max' }
  | { type: 'enabled'; budgetTokens: number };

/** Input of `compactConversation`: summarise the older part of the conversation, keep the recent part verbatim. */
export interface CompactConversationInput {
  sessionId: string;
  conversation: ConversationRef;
  /** Additions not stored yet; they belong to the recent part and are kept verbatim. */
  additions: ConversationAddition[];
  request: ModelRequestSettings;
  /** The model's context window, in tokens. */
  contextWindowTokens: number;
  /** About how many tokens of recent conversation to keep verbatim. */
  keepRecentTokens: number;
}

/** Result of `compactConversation`. */
export type CompactConversationResult =
  | {
      ok: true;
      conversation: ConversationRef;
      /** Estimated prompt tokens before and after. */
      preCompactionTokens: number;
      postCompactionTokens: number;
      /** Usage of the summarising model calls. */
      usage: SessionUsage;
      /** Messages summarised and kept. */
      summarisedMessages: number;
      keptMessages: number;
    }
  | { ok: false; reason: string; preCompactionTokens: number };

/** Input of `storeConversation`: messages carried inline by a run from before the conversation store, stored once. */
export interface StoreConversationInput {
  sessionId: string;
  messages: MessageParam[];
}

/**
 * What a tool Activity returns: the output inline, or (a long one) stored in the conversation store with `output`
 * empty, `contentKey` its key and `chars` its length. Results recorded before the store had only `output`.
 */
export interface ToolOutput {
  output: string;
  isError: boolean;
  contentKey?: string;
  chars?: number;
}
