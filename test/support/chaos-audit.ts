import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';

/** The file every tool step of a chaos session appends its line to. */
export const EFFECTS_FILE = '/workspace/effects.log';

/** The line tool step `step` (from 1) of chaos session `session` appends to the effects file. */
export function effectLine(session: number, step: number): string {
  return `s${session}-t${step}`;
}

/** The command of tool step `step` (from 1; `steps + 1` is the final `cat`) of chaos session `session`. */
export function stepCommand(session: number, step: number, steps: number, sleepSeconds: number): string {
  if (step > steps) return `cat ${EFFECTS_FILE}`;
  const pause = sleepSeconds > 0 ? `; sleep ${sleepSeconds}` : '';
  return `echo "${effectLine(session, step)}" >> ${EFFECTS_FILE}${pause}`;
}

/** The text a chaos session's model ends its turn with. */
export function finalText(session: number): string {
  return `chaos session ${session}: every step ran`;
}

/** What the audit of one chaos session found. */
export interface SessionAudit {
  /** The turn ended (`end_turn`) with the final message after every tool step had its one result. */
  completed: boolean;
  /** Expected events missing from `events.list`: tool calls, tool results, the message, the final message, the idle. */
  lost: number;
  /** Events in `events.list` more than once: the same id twice, or the same tool call, result or message again. */
  duplicated: number;
  /** Tool results listed before their tool call, or tool calls out of step order. */
  outOfOrder: number;
  /** Events of `events.list` the live stream (with its reconnects) never delivered. */
  streamLost: number;
  /** Events the live stream delivered more than once. */
  streamDuplicated: number;
  /** For each append step (index 0 is step 1): how often its line is in the effects file; undefined when unread. */
  effects: Array<number | undefined>;
  /** `session.error` events in the log (each a failure Keel reported and retried or gave up on). */
  errors: number;
  /** Each `session.error` as `<error type>/<retry status>` (`model_overloaded_error/retrying`, say). */
  errorKinds: string[];
  /** Tool results marked `is_error` (a command that failed, as the model saw it). */
  errorResults: number;
  /** Append steps whose line is not in the file and whose result told the model the command was interrupted. */
  interrupted: number;
  /** One line per step whose side effect did not happen exactly once, with what its tool result said. */
  notes: string[];
}

type ToolUse = Extract<BetaManagedAgentsSessionEvent, { type: 'agent.tool_use' }>;
type ToolResult = Extract<BetaManagedAgentsSessionEvent, { type: 'agent.tool_result' }>;

/** The text of a tool result's content blocks, joined. */
export function resultText(result: ToolResult): string {
  const content = (result as { content?: unknown }).content;
  if (!Array.isArray(content)) return typeof content === 'string' ? content : '';
  return content.map((block: { text?: unknown }) => (typeof block.text === 'string' ? block.text : '')).join('');
}

/**
 * Audits one chaos session: its log (`events`, from `events.list`) against the expected sequence (one user message,
 * `steps` append calls and a `cat`, each with one result, the final message, idle with `end_turn`), the ids the live
 * stream delivered against the log, and the effects file as the final `cat` printed it.
 */
export function auditSession(options: {
  session: number;
  steps: number;
  sleepSeconds: number;
  events: BetaManagedAgentsSessionEvent[];
  streamedIds: string[];
}): SessionAudit {
  const { events, session, steps } = options;
  let lost = 0;
  let duplicated = events.length - new Set(events.map((event) => event.id)).size;
  let outOfOrder = 0;
  const countOne = (count: number): void => {
    if (count === 0) lost += 1;
    else duplicated += count - 1;
  };
  countOne(events.filter((event) => event.type === 'user.message').length);
  const uses = events.filter((event): event is ToolUse => event.type === 'agent.tool_use');
  const results = events.filter((event): event is ToolResult => event.type === 'agent.tool_result');
  const position = new Map(events.map((event, index) => [event.id, index]));
  let previousUse = -1;
  let catOutput: string | undefined;
  const stepResults: string[] = [];
  let everyStepAnswered = true;
  for (let step = 1; step <= steps + 1; step += 1) {
    const command = stepCommand(session, step, steps, options.sleepSeconds);
    const calls = uses.filter((use) => (use.input as { command?: unknown }).command === command);
    countOne(calls.length);
    if (calls.length === 0) everyStepAnswered = false;
    for (const call of calls) {
      const callAt = position.get(call.id) ?? -1;
      if (callAt < previousUse) outOfOrder += 1;
      previousUse = Math.max(previousUse, callAt);
      const answers = results.filter((result) => result.tool_use_id === call.id);
      countOne(answers.length);
      if (answers.length === 0) everyStepAnswered = false;
      for (const answer of answers) {
        if ((position.get(answer.id) ?? -1) < callAt) outOfOrder += 1;
        if (step === steps + 1 && answer.is_error !== true) catOutput = resultText(answer);
        stepResults[step] = `${answer.is_error === true ? 'error' : 'ok'}: ${resultText(answer).slice(0, 160)}`;
      }
    }
  }
  const messages = events.filter(
    (event) =>
      event.type === 'agent.message' &&
      event.content.some((block) => block.type === 'text' && block.text === finalText(session)),
  );
  countOne(messages.length);
  const last = events.at(-1);
  const ended = last?.type === 'session.status_idle' && last.stop_reason.type === 'end_turn';
  if (!events.some((event) => event.type === 'session.status_idle')) lost += 1;
  const listed = new Set(events.map((event) => event.id));
  const streamed = new Set(options.streamedIds);
  const lines = catOutput?.split('\n').map((line) => line.trim());
  const effects = Array.from({ length: steps }, (_, index) =>
    lines === undefined ? undefined : lines.filter((line) => line === effectLine(session, index + 1)).length,
  );
  const notes = effects.flatMap((count, index) =>
    count === undefined || count === 1
      ? []
      : [
          `${effectLine(session, index + 1)}: in the file ${count} times; its result: ${stepResults[index + 1] ?? 'none'}`,
        ],
  );
  return {
    completed: ended && everyStepAnswered && messages.length > 0,
    lost,
    duplicated,
    outOfOrder,
    streamLost: [...listed].filter((id) => !streamed.has(id)).length,
    streamDuplicated: options.streamedIds.length - streamed.size,
    effects,
    errors: events.filter((event) => event.type === 'session.error').length,
    errorKinds: events.flatMap((event) =>
      event.type === 'session.error' ? [`${event.error.type}/${event.error.retry_status.type}`] : [],
    ),
    interrupted: effects.filter((count, index) => count === 0 && stepResults[index + 1]?.startsWith('error')).length,
    errorResults: results.filter((result) => result.is_error === true).length,
    notes,
  };
}
