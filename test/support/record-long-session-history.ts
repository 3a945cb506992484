/**
 * Records `test/histories/long-session-v4.json`, the history that `test/replay.test.ts` replays to keep the long-session
 * engine (stored conversation, compaction, event archives at continue-as-new) replaying as it ran when recorded. The
 * earlier recordings stay committed: `long-session-v2.json` is from before each run indexed its archive itself,
 * `long-session-v3.json` from before compaction moved into `callModel` (it compacts with `compactConversation`).
 *
 * Run it by hand, with the set-up done (Temporal CLI, Docker, sandbox image), only when a new recording is wanted:
 *
 *     npx tsx test/support/record-long-session-history.ts
 *
 * It drives one session through a small context window with continue-as-new every few steps, then writes the history
 * of one run that compacts the conversation (a `callModel` with `compact`), archives its events (`archiveRunIndexed`) and ends in
 * continue-as-new. It is not a test, so the committed file changes only when someone records it again.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { WorkflowHandle } from '@temporalio/client';
import { sendAndWait, startTestStack } from './test-stack';
import { toolLoopResponder } from './tool-loop-responder';

/** Where the recording goes. */
export const LONG_SESSION_HISTORY_PATH = path.join(__dirname, '..', 'histories', 'long-session-v4.json');

/** The model's window: small, so a few dozen short steps reach the compaction threshold. */
const WINDOW = 14_000;
const OUTPUT_BYTES = 400;
const CONTINUE_AS_NEW_AFTER_STEPS = 6;
const STEPS = 90;

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/** Whether a run's history schedules the Activity `activityType`. */
function schedules(history: History, activityType: string): boolean {
  return (history.events ?? []).some(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === activityType,
  );
}

/** Whether a run's history has a `callModel` that compacts the conversation first (its input has `compact`). */
function compactsInModelCall(history: History): boolean {
  return (history.events ?? []).some((event) => {
    const attributes = event.activityTaskScheduledEventAttributes;
    if (attributes?.activityType?.name !== 'callModel') return false;
    const data = attributes.input?.payloads?.[0]?.data;
    return data != null && 'compact' in (JSON.parse(Buffer.from(data).toString('utf8')) as object);
  });
}

/** Whether a run's history ends in continue-as-new. */
function continuesAsNew(history: History): boolean {
  return (history.events ?? []).at(-1)?.workflowExecutionContinuedAsNewEventAttributes != null;
}

/**
 * Records a session that compacts and continues-as-new, and writes to `outputPath` the history (as `historyToJSON`
 * writes it) of one of its runs that compacts, archives its events and continues-as-new; returns the file's size.
 */
export async function recordLongSessionHistory(outputPath: string = LONG_SESSION_HISTORY_PATH): Promise<number> {
  const responder = toolLoopResponder({ steps: STEPS, outputBytes: OUTPUT_BYTES, finalText: 'recorded' });
  const harness = await startTestStack({
    environment: {
      KEEL_MODEL_CONTEXT_WINDOWS: `scripted-model=${WINDOW}`,
      KEEL_CONTINUE_AS_NEW_AFTER_STEPS: String(CONTINUE_AS_NEW_AFTER_STEPS),
    },
    model: { contextWindowTokens: WINDOW, respond: (request) => responder.respond(request) },
  });
  try {
    const { id: sessionId } = await harness.client.createSession({ title: 'long session v4' });
    const { idle } = await sendAndWait(harness.client, sessionId, `run ${STEPS} commands`);
    if (!JSON.stringify(idle).includes('end_turn')) throw new Error(`the turn did not end: ${JSON.stringify(idle)}`);
    if (responder.compactionsAnswered() === 0) throw new Error('the session never compacted: lower WINDOW');
    // The session is left running (the stack's teardown removes it): an end sent right after a turn that reached the
    // continue-as-new threshold can arrive while the run archives its events, and the next run does not carry it.

    const temporalClient = harness.stack.temporal;
    const runs: string[] = [];
    for await (const execution of temporalClient.workflow.list({ query: `WorkflowId = '${sessionId}'` })) {
      runs.push(execution.runId);
    }
    for (const runId of runs) {
      const history = await temporalClient.workflow.getHandle(sessionId, runId).fetchHistory();
      if (!compactsInModelCall(history) || !schedules(history, 'archiveRunIndexed')) continue;
      if (!continuesAsNew(history)) continue;
      const json = historyToJSON(history);
      writeFileSync(outputPath, json);
      return json.length;
    }
    throw new Error(`none of the ${runs.length} runs compacts, archives its events and continues-as-new`);
  } finally {
    await harness.stop();
  }
}

if (require.main === module) {
  recordLongSessionHistory().then(
    (size) => console.log(`wrote ${LONG_SESSION_HISTORY_PATH} (${size} bytes)`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
