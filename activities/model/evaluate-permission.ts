import type Anthropic from '@anthropic-ai/sdk';
import { CancelledFailure } from '@temporalio/common';
import type { MessageParam } from '../../common/model';
import { PERMISSION_SYSTEM_PROMPT, readVerdict } from '../../common/permission';
import type { EvaluatePermissionInput, JudgedPermission } from '../../common/permission';
import { usageCounts } from '../../common/session';
import { currentActivityControl, whileHeartbeating } from '../activity-control';
import type { ConversationStore } from '../storage/conversation-store';
import { classifyModelError } from './classify-model-error';
import { SUMMARY_PREFIX } from './compact-conversation';
import { shorten } from './compaction-plan';

/** What `evaluatePermission` needs from the worker. */
export interface EvaluatePermissionDependencies {
  client: Anthropic;
  conversations: ConversationStore;
}

/** The most characters of the user's messages the classifier reads (the most recent ones). */
const INTENT_CHARS = 8_000;
/** The most characters of the tool call's input the classifier reads (head and tail). */
const INPUT_CHARS = 4_000;

/**
 * The `auto` permission policy's judgement of one tool call: one model call with Keel's fixed classifier prompt
 * (`PERMISSION_SYSTEM_PROMPT`) that reads the user's own messages as intent and the call, never a tool's output or
 * the agent's text, so nothing a tool returned can talk it into allowing a call. A model failure is thrown
 * (Temporal retries it); the Workflow holds the call for the user when retries run out.
 */
export async function evaluatePermission(
  input: EvaluatePermissionInput,
  dependencies: EvaluatePermissionDependencies,
): Promise<JudgedPermission> {
  const control = currentActivityControl();
  const messages = input.conversation === null ? [] : await dependencies.conversations.messages(input.conversation);
  const prompt =
    `The user's messages in this session, oldest first:\n${userIntent(messages) || '(none)'}\n\n` +
    `The tool call to judge:\ntool: ${input.toolName}\ninput: ${shorten(JSON.stringify(input.input), INPUT_CHARS)}`;
  try {
    const reply = await whileHeartbeating(control, () =>
      dependencies.client.messages.create(
        {
          model: input.model,
          max_tokens: 8,
          system: PERMISSION_SYSTEM_PROMPT,
          messages: [{ role: 'user', content: prompt }],
        },
        { signal: control.signal ?? null },
      ),
    );
    const text = reply.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join(' ');
    return { ...readVerdict(text), usage: usageCounts(reply.usage) };
  } catch (error) {
    if (control.signal?.aborted) throw new CancelledFailure('The permission evaluation was cancelled.');
    throw classifyModelError(error);
  }
}

/**
 * The text the user wrote, message by message, the most recent `INTENT_CHARS` of it. Tool results are left out, and
 * so is a compaction's summary: the model wrote it, from a transcript that held tool output.
 */
export function userIntent(messages: MessageParam[]): string {
  const texts = messages.flatMap((message) => {
    if (message.role !== 'user') return [];
    const blocks =
      typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content;
    const text = blocks
      .flatMap((block) => (block.type === 'text' && !block.text.startsWith(SUMMARY_PREFIX) ? [block.text] : []))
      .join('\n');
    return text === '' ? [] : [text];
  });
  const joined = texts.map((text) => `- ${text}`).join('\n');
  return joined.length <= INTENT_CHARS ? joined : joined.slice(-INTENT_CHARS);
}
