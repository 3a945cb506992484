import type Anthropic from '@anthropic-ai/sdk';
import type { Tool } from '@anthropic-ai/sdk/resources/messages';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { BlobStore } from '../../common/blob-store';
import { readArchivedEvents } from '../../common/event-archives';
import { joinWork, resultLine, workItems } from '../../common/iteration-work';
import type { IterationWork } from '../../common/iteration-work';
import { GRADER_SYSTEM_PROMPT, GRADER_TOOL_NAME, MAX_RUBRIC_CHARS } from '../../common/outcome';
import type { GradeOutcomeInput, GradeOutcomeResult, GraderVerdict, OutcomeRubric } from '../../common/outcome';
import { readStoredTexts } from '../../common/stored-event-bodies';
import { usageCounts } from '../../common/session';
import { currentActivityControl, whileHeartbeating } from '../activity-control';
import { classifyModelError } from './classify-model-error';
import type { UploadedFileReader } from './resolve-media';

/** What `gradeOutcome` needs from the worker. */
export interface GradeOutcomeDependencies {
  client: Anthropic;
  /** Reads uploaded files, for a rubric sent as a file reference. */
  uploadedFiles: UploadedFileReader;
  /** The blob store of stored tool outputs and event archives; without it the grader reads only what the input holds. */
  blobs?: BlobStore;
}

/** The most tokens the grader may write (its verdict and explanation). */
const GRADER_MAX_TOKENS = 4_096;

const VERDICTS: ReadonlySet<string> = new Set<GraderVerdict>(['satisfied', 'needs_revision', 'failed']);

/** The grader's verdict tool: the forced tool call that makes its answer structured. */
export const GRADER_TOOL: Tool = {
  name: GRADER_TOOL_NAME,
  description: "Submit the evaluation of the agent's work against the rubric.",
  input_schema: {
    type: 'object',
    properties: {
      result: {
        type: 'string',
        enum: ['satisfied', 'needs_revision', 'failed'],
        description:
          'satisfied: every criterion met; needs_revision: some unmet and fixable; failed: rubric does not apply.',
      },
      explanation: {
        type: 'string',
        description: 'Which criteria passed or failed and why; for needs_revision, what the agent must fix.',
      },
    },
    required: ['result', 'explanation'],
  },
};

/**
 * An outcome's grader: one model call in its own context (the rubric, the task, and what the agent produced in this
 * iteration; never the agent's conversation) with Keel's fixed prompt (`GRADER_SYSTEM_PROMPT`), forced to answer with
 * the verdict tool. A file rubric is read here, so its text never enters Temporal history. A model failure is thrown
 * classified (Temporal retries the retryable ones); a reply without a readable verdict is retried too.
 */
export async function gradeOutcome(
  input: GradeOutcomeInput,
  dependencies: GradeOutcomeDependencies,
): Promise<GradeOutcomeResult> {
  const control = currentActivityControl();
  const rubric = await rubricText(input.rubric, dependencies.uploadedFiles);
  const work = dependencies.blobs === undefined ? input : await wholeIterationWork(input, dependencies.blobs);
  let reply;
  try {
    reply = await whileHeartbeating(control, () =>
      dependencies.client.messages.create(
        {
          model: input.model,
          max_tokens: GRADER_MAX_TOKENS,
          system: GRADER_SYSTEM_PROMPT,
          tools: [GRADER_TOOL],
          tool_choice: { type: 'tool', name: GRADER_TOOL_NAME },
          messages: [{ role: 'user', content: graderPrompt({ ...input, ...work }, rubric) }],
        },
        { signal: control.signal ?? null },
      ),
    );
  } catch (error) {
    if (control.signal?.aborted) throw new CancelledFailure('The outcome evaluation was cancelled.');
    throw classifyModelError(error);
  }
  const call = reply.content.find((block) => block.type === 'tool_use' && block.name === GRADER_TOOL_NAME);
  const verdict = call?.type === 'tool_use' ? readVerdict(call.input) : null;
  if (verdict === null) {
    throw ApplicationFailure.retryable(`The grader answered without a readable ${GRADER_TOOL_NAME} call.`);
  }
  return { ...verdict, usage: usageCounts(reply.usage) };
}

/** The grader's verdict from its tool input, or `null` when it is not one. */
export function readVerdict(input: unknown): { verdict: GraderVerdict; explanation: string } | null {
  const { result, explanation } = (input ?? {}) as { result?: unknown; explanation?: unknown };
  if (typeof result !== 'string' || !VERDICTS.has(result)) return null;
  return { verdict: result as GraderVerdict, explanation: typeof explanation === 'string' ? explanation : '' };
}

/** The grader's user message: the rubric, the task, then the agent's work, each in its own tagged section. */
export function graderPrompt(input: GradeOutcomeInput, rubric: string): string {
  const messages = input.agentMessages.length === 0 ? '(none)' : input.agentMessages.join('\n\n---\n\n');
  const tools = input.toolAccount.length === 0 ? '(none)' : input.toolAccount.join('\n');
  return (
    `<rubric>\n${rubric}\n</rubric>\n\n<task>\n${input.description}\n</task>\n\n` +
    `<agent_messages iteration="${input.iteration}">\n${messages}\n</agent_messages>\n\n` +
    `<agent_tool_calls>\n${tools}\n</agent_tool_calls>\n\nEvaluate the work against the rubric.`
  );
}

/**
 * The iteration's whole work as the grader reads it: the input's part (the Workflow's run) with its stored tool
 * results' texts put in, after the part earlier runs logged, read from the event archives (with their stored texts),
 * within the same caps as if one run had logged it all. Archives that do not reach back to the iteration's start
 * (runs recorded before archives existed) leave a line that says how many events the grader does not see.
 */
export async function wholeIterationWork(input: GradeOutcomeInput, blobs: BlobStore): Promise<IterationWork> {
  const stored = input.storedResults ?? [];
  const toolAccount = [...input.toolAccount];
  if (stored.length > 0) {
    const texts = await readStoredTexts(
      blobs,
      stored.map((result) => result.contentKey),
      missingBlob,
    );
    for (const result of stored)
      toolAccount[result.index] = resultLine(result.isError, texts.get(result.contentKey) ?? '');
  }
  const later: IterationWork = { agentMessages: input.agentMessages, toolAccount };
  const earlier = input.earlierEvents;
  if (earlier === undefined || input.toolLineCount === undefined) return later;
  const events = await readArchivedEvents(blobs, input.sessionId, earlier, earlier, missingBlob);
  const keys = events.flatMap((entry) => (entry.contentKey === undefined ? [] : [entry.contentKey]));
  const items = workItems(events, await readStoredTexts(blobs, keys, missingBlob));
  const joined = joinWork(items, later, input.toolLineCount);
  const unseen = earlier.until - earlier.from - events.length;
  if (unseen > 0) {
    joined.toolAccount.unshift(`(${unseen} earlier events of this iteration, in an earlier run, not shown)`);
  }
  return joined;
}

/** A body missing from the blob store (or not as referenced) stays missing: retrying cannot help. */
function missingBlob(message: string): Error {
  return ApplicationFailure.nonRetryable(message);
}

/** The rubric's text: inline, or the uploaded file's content as UTF-8 (a deleted file cannot be graded against). */
async function rubricText(rubric: OutcomeRubric, read: UploadedFileReader): Promise<string> {
  if (rubric.type === 'text') return rubric.content;
  const bytes = await read(rubric.file_id);
  if (bytes === null) {
    throw ApplicationFailure.nonRetryable(
      `The rubric file ${rubric.file_id} was deleted; the outcome cannot be graded.`,
    );
  }
  return Buffer.from(bytes).toString('utf8').slice(0, MAX_RUBRIC_CHARS);
}
