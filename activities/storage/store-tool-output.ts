import type { ToolOutput } from '../../common/conversation';
import type { ConversationStore } from './conversation-store';

/** Outputs up to this many characters stay inline in the Activity result; longer ones are stored and referenced. */
export const INLINE_OUTPUT_MAX_CHARS = 512;

/**
 * Wraps a tool Activity so its output text leaves Temporal history: an output longer than `INLINE_OUTPUT_MAX_CHARS`
 * is stored once in the conversation store and the result carries its key and length instead (the model reads it
 * from the store, the server fills it into the `agent.tool_result` event).
 */
export function withStoredOutput<Input>(
  run: (input: Input) => Promise<{ output: string; isError: boolean }>,
  conversations: ConversationStore,
): (input: Input) => Promise<ToolOutput> {
  return async (input) => {
    const result = await run(input);
    if (result.output.length <= INLINE_OUTPUT_MAX_CHARS) return result;
    const contentKey = await conversations.storeText(result.output);
    return { output: '', isError: result.isError, contentKey, chars: result.output.length };
  };
}
