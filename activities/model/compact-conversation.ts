import type Anthropic from '@anthropic-ai/sdk';
import { CancelledFailure } from '@temporalio/common';
import type {
  CompactConversationInput,
  CompactConversationResult,
  ConversationRef,
  ModelRequestSettings,
} from '../../common/conversation';
import type { CompactionSettings, MessageParam, Tool } from '../../common/model';
import { addUsage, emptyUsage, usageCounts } from '../../common/session';
import { currentActivityControl, whileHeartbeating } from '../activity-control';
import type { ConversationStore } from '../storage/conversation-store';
import { offeredTools } from './offered-tools';
import { classifyModelError } from './classify-model-error';
import {
  chunkTranscript,
  estimateJsonTokens,
  keptSystemContext,
  planCompaction,
  renderTranscript,
} from './compaction-plan';

/** The system prompt of a summarising call; the scripted model of the tests recognises compaction by it. */
export const COMPACTION_SYSTEM_PROMPT =
  'You compact the conversation of a long-running agent session. Summarise the transcript you are given so that the ' +
  'agent can continue its work from the summary alone: the goal and instructions from the user, decisions made, ' +
  'files and commands that matter, results so far, errors met, and what remains to do. Be complete and concise.';

/** The first words of the user message that carries a summary, so a later compaction knows it. */
export const SUMMARY_PREFIX = 'The earlier part of this session was compacted. Summary of it:';

/** Tokens a summary may use. */
const SUMMARY_MAX_TOKENS = 4_096;
/** Room for the summarising call's instructions and the previous summary, besides the transcript chunk. */
const SUMMARY_OVERHEAD_TOKENS = 2_000;

/** What `compactConversation` needs from the worker. */
export interface CompactConversationDependencies {
  client: Anthropic;
  conversations: ConversationStore;
  toolDefinitions: ReadonlyMap<string, Tool>;
}

/**
 * Compacts a session's conversation: the older part is summarised by the model (in chunks that each fit the window,
 * each chunk's summary carried into the next), the recent part is kept verbatim from an assistant message on, so
 * every `tool_use` keeps its `tool_result`, and a new chain is stored: the summary, then the recent messages. It
 * answers `ok: false` when nothing can make room (the recent part alone does not fit), and never changes the old chain.
 * The Activity of sessions whose runs predate compaction inside `callModel` (their histories replay with it).
 */
export async function compactConversation(
  input: CompactConversationInput,
  dependencies: CompactConversationDependencies,
): Promise<CompactConversationResult> {
  const withAdditions = await dependencies.conversations.appendAdditions(input.conversation, input.additions);
  return compactStoredConversation(withAdditions, input.request, input, dependencies);
}

/** Compacts the stored conversation at `ref` (see `compactConversation`), for a request with `request`'s settings. */
export async function compactStoredConversation(
  ref: ConversationRef,
  request: Pick<ModelRequestSettings, 'model' | 'system' | 'maxTokens' | 'toolNames' | 'extraTools'>,
  settings: CompactionSettings,
  dependencies: CompactConversationDependencies,
): Promise<CompactConversationResult> {
  const { conversations } = dependencies;
  const control = currentActivityControl();
  const messages = await conversations.messages(ref);
  const fixedTokens =
    estimateJsonTokens(offeredTools(request, dependencies.toolDefinitions)) + estimateJsonTokens(request.system ?? '');
  const preCompactionTokens = fixedTokens + estimateJsonTokens(messages);
  const maxRecentTokens = settings.contextWindowTokens - fixedTokens - SUMMARY_MAX_TOKENS - request.maxTokens;
  const plan = planCompaction(messages, settings.keepRecentTokens, maxRecentTokens);
  if (plan === null) {
    return {
      ok: false,
      preCompactionTokens,
      reason:
        `The conversation (about ${preCompactionTokens} tokens) cannot be compacted into the model's context window of ` +
        `${settings.contextWindowTokens} tokens: its most recent message${messages.length > 1 ? 's are' : ' is'} too large to keep.`,
    };
  }
  const chunkTokens = Math.max(1_000, settings.contextWindowTokens - SUMMARY_MAX_TOKENS - SUMMARY_OVERHEAD_TOKENS * 2);
  const chunks = chunkTranscript(renderTranscript(plan.older, chunkTokens * 2), chunkTokens);
  const usage = emptyUsage();
  let summary = '';
  try {
    for (const chunk of chunks) {
      const reply = await whileHeartbeating(control, () =>
        dependencies.client.messages.create(
          {
            model: request.model,
            max_tokens: SUMMARY_MAX_TOKENS,
            system: COMPACTION_SYSTEM_PROMPT,
            messages: [{ role: 'user', content: summaryRequest(summary, chunk) }],
          },
          { signal: control.signal ?? null },
        ),
      );
      addUsage(usage, usageCounts(reply.usage));
      summary = reply.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
    }
  } catch (error) {
    if (control.signal?.aborted) throw new CancelledFailure('The compaction was cancelled.');
    throw classifyModelError(error);
  }
  const compacted: MessageParam[] = [
    { role: 'user', content: [{ type: 'text', text: `${SUMMARY_PREFIX}\n\n${summary}` }] },
    ...keptSystemContext(plan.older),
    ...plan.recent,
  ];
  const conversation = await conversations.appendMessages({ head: null }, compacted);
  return {
    ok: true,
    conversation,
    preCompactionTokens,
    postCompactionTokens: fixedTokens + estimateJsonTokens(await conversations.messages(conversation)),
    usage,
    summarisedMessages: plan.older.length,
    keptMessages: plan.recent.length,
  };
}

function summaryRequest(previousSummary: string, chunk: string): string {
  const previous = previousSummary === '' ? '' : `<summary_so_far>\n${previousSummary}\n</summary_so_far>\n\n`;
  return `${previous}<transcript>\n${chunk}\n</transcript>\n\nWrite the summary of everything above${previous === '' ? '' : ', the summary so far included'}.`;
}
