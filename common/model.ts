import type { ContentBlock, MessageParam, StopReason, Tool, Usage } from '@anthropic-ai/sdk/resources/messages';

/** Input of the `callModel` Activity: one Messages API request, JSON-plain. */
export interface CallModelInput {
  sessionId: string;
  /** Id reserved by the Workflow for the `agent.message` this call may produce; live text deltas carry it. */
  messageEventId: string;
  model: string;
  system: string | null;
  maxTokens: number;
  messages: MessageParam[];
  /** Names of the built-in tools offered; the Activity turns them into definitions, so history stays small. */
  toolNames: string[];
  /** Tools offered with their whole definition: the agent's custom tools and its MCP servers' tools. */
  extraTools?: Tool[];
}

/** Result of the `callModel` Activity: the final assistant message with its usage. */
export interface CallModelResult {
  content: ContentBlock[];
  stopReason: StopReason | null;
  usage: Usage;
}

export type { ContentBlock, MessageParam, Tool, Usage };
