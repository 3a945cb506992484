import type { MessageParam, Tool } from '../../common/model';

/** The most `cache_control` breakpoints one Messages API request may carry. */
export const MAX_CACHE_BREAKPOINTS = 4;

type SystemBlock = { type: 'text'; text: string; cache_control?: { type: 'ephemeral' } };

/** A request's cacheable parts with their `cache_control` breakpoints set. */
export interface CachedPrompt {
  tools: Tool[];
  system: SystemBlock[] | undefined;
  messages: MessageParam[];
}

/**
 * Puts `cache_control` breakpoints on the stable prefix of a request, so a long session's input is mostly cache
 * reads: the last tool definition, the system prompt, and the last block of the last two user messages. The newest
 * breakpoint writes the prefix this call sends; the one before it is where the previous call wrote, so the next call
 * reads everything but what is new. The inputs are not changed: the blocks that get a breakpoint are copied.
 */
export function withCacheBreakpoints(tools: Tool[], system: string | null, messages: MessageParam[]): CachedPrompt {
  const ephemeral = { type: 'ephemeral' as const };
  const cachedTools = tools.map((tool, index) =>
    index === tools.length - 1 ? { ...tool, cache_control: ephemeral } : tool,
  );
  const cachedSystem =
    system === null ? undefined : [{ type: 'text' as const, text: system, cache_control: ephemeral }];
  const used = (cachedTools.length > 0 ? 1 : 0) + (cachedSystem === undefined ? 0 : 1);
  const userIndexes = messages.flatMap((message, index) => (message.role === 'user' ? [index] : []));
  const marked = new Set(userIndexes.slice(-(MAX_CACHE_BREAKPOINTS - used)).slice(-2));
  const cachedMessages = messages.map((message, index) =>
    marked.has(index) ? withBreakpointOnLastBlock(message) : message,
  );
  return { tools: cachedTools, system: cachedSystem, messages: cachedMessages };
}

function withBreakpointOnLastBlock(message: MessageParam): MessageParam {
  const blocks =
    typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content;
  const last = blocks.at(-1);
  if (last === undefined || last.type === 'thinking' || last.type === 'redacted_thinking') return message;
  return {
    ...message,
    content: [...blocks.slice(0, -1), { ...last, cache_control: { type: 'ephemeral' } }],
  } as MessageParam;
}
