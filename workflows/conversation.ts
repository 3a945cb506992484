import type { ContentBlock, MessageParam } from '../common/model';
import type { TextBlock } from '../common/events';

type UserContentBlock = Exclude<MessageParam['content'], string>[number];
type ToolResultBlock = Extract<UserContentBlock, { type: 'tool_result' }>;

/** A tool result as it goes back to the model. */
export interface ToolResultInput {
  toolUseId: string;
  output: string;
  isError: boolean;
}

/** The text the model sees for a tool call that never ran because the turn stopped first. */
export const TOOL_NOT_RUN_TEXT = 'The tool was not run: the turn was interrupted before it finished.';

/**
 * Appends user content to the conversation, keeping it valid for the Messages API: content after a user message is
 * merged into it (roles must alternate), and tool calls of a trailing assistant message that never got a result get
 * an error result first (every `tool_use` needs its `tool_result`).
 */
export function appendUserContent(messages: MessageParam[], blocks: UserContentBlock[]): MessageParam[] {
  const last = messages.at(-1);
  const answersTools = blocks.some((block) => block.type === 'tool_result');
  const missing = last?.role === 'assistant' && !answersTools ? unansweredToolUses(last) : [];
  const content: UserContentBlock[] = [
    ...missing.map((id) => toolResultBlock({ toolUseId: id, output: TOOL_NOT_RUN_TEXT, isError: true })),
    ...blocks,
  ];
  if (last?.role === 'user') {
    return [...messages.slice(0, -1), { role: 'user', content: [...asBlocks(last.content), ...content] }];
  }
  return [...messages, { role: 'user', content }];
}

/** Appends the assistant's reply to the conversation. */
export function appendAssistantContent(messages: MessageParam[], content: ContentBlock[]): MessageParam[] {
  return [...messages, { role: 'assistant', content: content as MessageParam['content'] }];
}

/** The text blocks of a user message, as the conversation stores them. */
export function userTextBlocks(content: TextBlock[]): UserContentBlock[] {
  return content.map((block) => ({ type: 'text', text: block.text }));
}

/** A `tool_result` block for the conversation. */
export function toolResultBlock(result: ToolResultInput): ToolResultBlock {
  return {
    type: 'tool_result',
    tool_use_id: result.toolUseId,
    content: result.output.length > 0 ? result.output : '(no output)',
    is_error: result.isError,
  };
}

/** The `tool_use` ids of an assistant message: it is always the last message when this is asked. */
function unansweredToolUses(message: MessageParam): string[] {
  return asBlocks(message.content).flatMap((block) => (block.type === 'tool_use' ? [block.id] : []));
}

function asBlocks<T extends MessageParam['content']>(content: T): Exclude<T, string> {
  return (typeof content === 'string' ? [{ type: 'text', text: content }] : content) as Exclude<T, string>;
}
