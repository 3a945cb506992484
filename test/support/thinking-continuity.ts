import type { MessagesRequest } from '../../cli/demo-model/messages-wire';

type RequestMessage = MessagesRequest['messages'][number];

function blocksOf(message: RequestMessage): Array<Record<string, unknown>> {
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
}

function isThinking(block: Record<string, unknown> | undefined): boolean {
  return block?.type === 'thinking' || block?.type === 'redacted_thinking';
}

function answersToolUse(message: RequestMessage): boolean {
  return message.role === 'user' && blocksOf(message).some((block) => block.type === 'tool_result');
}

/**
 * Returns the API's 400 message when a request with thinking on continues a tool-use loop but has dropped the thinking
 * block that opened it, or undefined when the request is fine.
 *
 * The API's rule: with `thinking` enabled (or adaptive), the final assistant turn (every message after the last user
 * message that is not a tool_result reply) must open with a thinking block when the request continues that turn, that
 * is when it ends with tool_result blocks. A real model with thinking on always thinks there, so a missing block means
 * the caller dropped it. A scripted model thinks only when its script says so, so the check fires only with evidence
 * that thinking was there to drop: the turn's first assistant message holds a tool_use that this server sent with
 * thinking (`toolUseIdsSentWithThinking`), or another assistant message of the request still carries thinking.
 */
export function droppedThinkingError(
  request: MessagesRequest,
  toolUseIdsSentWithThinking: ReadonlySet<string>,
): string | undefined {
  const thinking = request.thinking as { type?: unknown } | undefined;
  if (thinking?.type !== 'enabled' && thinking?.type !== 'adaptive') return undefined;
  const messages = request.messages;
  const last = messages.at(-1);
  if (!last || !answersToolUse(last)) return undefined;
  // Walk back to the first message of the final assistant turn: just after the last user message that is no tool reply.
  let turnStart = messages.length - 1;
  while (turnStart > 0) {
    const previous = messages[turnStart - 1];
    if (!previous || (previous.role === 'user' && !answersToolUse(previous))) break;
    turnStart -= 1;
  }
  const openingIndex = messages.findIndex((message, index) => index >= turnStart && message.role === 'assistant');
  const opening = messages[openingIndex];
  if (!opening) return undefined;
  const openingBlocks = blocksOf(opening);
  if (isThinking(openingBlocks[0])) return undefined;
  const sentWithThinking = openingBlocks.some(
    (block) => block.type === 'tool_use' && typeof block.id === 'string' && toolUseIdsSentWithThinking.has(block.id),
  );
  const thinkingElsewhere = messages.some(
    (message) => message.role === 'assistant' && blocksOf(message).some((block) => isThinking(block)),
  );
  if (!sentWithThinking && !thinkingElsewhere) return undefined;
  const openingType = openingBlocks[0]?.type;
  const found = typeof openingType === 'string' ? openingType : 'nothing';
  // The wording is the API's own, its spelling of "preceeding" included.
  return (
    `messages.${openingIndex}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. ` +
    'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost ' +
    'set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To ' +
    'avoid this requirement, disable `thinking`. Please consult our documentation at ' +
    'https://docs.claude.com/en/docs/build-with-claude/extended-thinking'
  );
}
