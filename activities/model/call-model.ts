import type Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { BLOB_PREFIXES } from '../../common/blob-store';
import type { ThinkingSettings } from '../../common/conversation';
import type { LiveEvents } from '../../common/live-events';
import { usageCounts } from '../../common/session';
import { FAILURE_TYPES } from '../../common/failures';
import type { CallModelInput, CallModelResult, CompactionOutcome, MessageParam, Tool } from '../../common/model';
import { SESSION_ID_ATTRIBUTE } from '../../common/telemetry-attributes';
import { currentActivityControl, whileHeartbeating } from '../activity-control';
import { withSpan } from '../with-span';
import type { ConversationStore } from '../storage/conversation-store';
import { withCacheBreakpoints } from './cache-breakpoints';
import { classifyModelError } from './classify-model-error';
import { compactStoredConversation } from './compact-conversation';
import { offeredTools } from './offered-tools';
import { withResolvedMedia } from './resolve-media';
import type { UploadedFileReader } from './resolve-media';

/** What `callModel` needs from the worker. */
export interface CallModelDependencies {
  /** A client built with `maxRetries: 0`: Temporal owns every retry. */
  client: Anthropic;
  bus: LiveEvents;
  /** Definitions of every tool the worker can run, by name. */
  toolDefinitions: ReadonlyMap<string, Tool>;
  /** Where sessions' conversations are stored. */
  conversations: ConversationStore;
  /** Reads uploaded files, for images and documents sent by reference (`file` sources). */
  uploadedFiles: UploadedFileReader;
}

/**
 * Calls the Messages API with streaming on a session's conversation: the additions are stored first (one segment),
 * the request carries `cache_control` breakpoints on its stable prefix, text deltas go to the live bus as they arrive,
 * and the reply is stored before it is returned with the new conversation head. The Activity heartbeats while it
 * waits, and its cancellation (a user interrupt) aborts the HTTP request. A retried attempt writes the same segments
 * (content-addressed), so a retry never duplicates anything. With `compact`, the conversation is compacted first (see
 * `compactStoredConversation`) and the call made on the compacted chain.
 */
export async function callModel(input: CallModelInput, dependencies: CallModelDependencies): Promise<CallModelResult> {
  const control = currentActivityControl();
  const { conversations } = dependencies;
  const stored = input.conversation;
  let withAdditions =
    stored === undefined ? undefined : await conversations.appendAdditions(stored, input.additions ?? []);
  const system = input.systemKey === undefined ? input.system : await conversations.readText(input.systemKey);
  let compaction: CompactionOutcome | undefined;
  if (input.compact !== undefined && withAdditions !== undefined) {
    const compacted = await compactStoredConversation(withAdditions, { ...input, system }, input.compact, dependencies);
    if (!compacted.ok) {
      throw ApplicationFailure.create({
        type: FAILURE_TYPES.compactionLimitReached,
        message: compacted.reason,
        nonRetryable: true,
      });
    }
    withAdditions = compacted.conversation;
    const { preCompactionTokens, postCompactionTokens, usage } = compacted;
    compaction = { preCompactionTokens, postCompactionTokens, usage };
  }
  const messages: MessageParam[] =
    withAdditions === undefined ? (input.messages ?? []) : await conversations.messages(withAdditions);
  const prompt = withCacheBreakpoints(
    offeredTools(input, dependencies.toolDefinitions),
    system,
    await withResolvedMedia(messages, dependencies.uploadedFiles),
  );
  const request: MessageCreateParamsBase = {
    model: input.model,
    max_tokens: input.maxTokens,
    messages: prompt.messages,
    ...(prompt.system === undefined ? {} : { system: prompt.system }),
    ...(prompt.tools.length === 0 ? {} : { tools: prompt.tools }),
    ...thinkingParameters(input.thinking),
  };
  // Only the model call's failures are the model's: a failed store write is passed on as it is.
  let message: Message;
  try {
    // One span per model call, around the SDK's own (`anthropic.messages.*`), with the session and the usage on it.
    const attributes = { [SESSION_ID_ATTRIBUTE]: input.sessionId, 'gen_ai.request.model': input.model };
    message = await withSpan('model.call', attributes, async (span) => {
      const reply = await whileHeartbeating(control, () => streamReply(request, input, dependencies, control.signal));
      span.setAttributes({
        'gen_ai.response.finish_reasons': [reply.stop_reason ?? 'none'],
        'gen_ai.usage.input_tokens': reply.usage.input_tokens,
        'gen_ai.usage.output_tokens': reply.usage.output_tokens,
      });
      return reply;
    });
  } catch (error) {
    if (control.signal?.aborted) throw new CancelledFailure('The model call was cancelled.');
    throw classifyModelError(error);
  }
  // Only the four counts the session adds up cross into the history, so each step's record stays small.
  const usage = usageCounts(message.usage) as CallModelResult['usage'];
  const result: CallModelResult = {
    content: message.content,
    stopReason: message.stop_reason,
    usage,
    ...(compaction === undefined ? {} : { compaction }),
  };
  if (withAdditions === undefined) return result;
  const conversation = await conversations.append(withAdditions, 'assistant', message.content);
  // A system prompt that came inline is stored (content-addressed) for the run's next calls to name.
  if (input.system === null) return { ...result, conversation };
  return { ...result, conversation, systemKey: await conversations.storeText(input.system, BLOB_PREFIXES.system) };
}

/** Streams the model's reply to `request`: text deltas and the start of thinking go to the live bus as they arrive. */
function streamReply(
  request: MessageCreateParamsBase,
  input: CallModelInput,
  dependencies: CallModelDependencies,
  signal: AbortSignal | undefined,
): Promise<Message> {
  const stream = dependencies.client.messages.stream(request, { signal: signal ?? null });
  stream.on('text', (text) => {
    dependencies.bus.publish({
      kind: 'text_delta',
      sessionId: input.sessionId,
      eventId: input.messageEventId,
      text,
      producedAt: Date.now(),
    });
  });
  const thinkingEventId = input.thinkingEventId;
  if (thinkingEventId !== undefined) {
    // The hosted stream previews thinking with a start only: one per call, when the first thinking block opens.
    let thinkingStarted = false;
    stream.on('streamEvent', (event) => {
      if (thinkingStarted || event.type !== 'content_block_start') return;
      if (event.content_block.type !== 'thinking' && event.content_block.type !== 'redacted_thinking') return;
      thinkingStarted = true;
      dependencies.bus.publish({ kind: 'thinking_started', sessionId: input.sessionId, eventId: thinkingEventId });
    });
  }
  return stream.finalMessage();
}

/** The Messages API parameters of an agent's extended thinking. */
export function thinkingParameters(thinking: ThinkingSettings | undefined): Partial<MessageCreateParamsBase> {
  if (thinking === undefined) return {};
  if (thinking.type === 'enabled') return { thinking: { type: 'enabled', budget_tokens: thinking.budgetTokens } };
  return {
    thinking: { type: 'adaptive' },
    ...(thinking.effort === undefined ? {} : { output_config: { effort: thinking.effort } }),
  };
}
