import type { SessionEvent } from '../common/events';
import { DEFAULT_MAX_ITERATIONS } from '../common/outcome';
import type { GraderVerdict, OutcomeEvaluationView, OutcomeResult, OutcomeState } from '../common/outcome';

/**
 * The rules of outcomes (`user.define_outcome`), as pure functions of an outcome's state that return what to do next;
 * the session Workflow executes what they return (the grader Activity, events, the next turn). Unit tests reach every
 * rule in milliseconds, without Temporal.
 */

/** What follows an evaluation. */
export type AfterEvaluation =
  /** The outcome is over; the session goes idle. */
  | { kind: 'done'; result: 'satisfied' | 'failed' }
  /** The grader's explanation goes back to the agent and it works on iteration `iteration`. */
  | { kind: 'revise'; iteration: number }
  /** The budget is spent with criteria unmet: one last turn acknowledges it, with no evaluation after it. */
  | { kind: 'final_turn'; result: 'max_iterations_reached' };

/** The terminal results: no evaluation follows them. */
const TERMINAL: ReadonlySet<OutcomeResult> = new Set(['satisfied', 'failed', 'max_iterations_reached', 'interrupted']);

/** Whether the outcome has reached a terminal result. */
export function isTerminal(result: OutcomeResult): boolean {
  return TERMINAL.has(result);
}

/** The evaluation budget of an outcome: `max_iterations` as sent, or the hosted default of 3. */
export function resolveMaxIterations(maxIterations: number | null): number {
  return maxIterations ?? DEFAULT_MAX_ITERATIONS;
}

/**
 * Decides what follows the grader's verdict on iteration `iteration` (0-indexed) of an outcome with `maxIterations`
 * evaluations at most: `needs_revision` starts the next iteration while the budget lasts; on the last one it becomes
 * `max_iterations_reached`.
 */
export function decideAfterEvaluation(state: {
  verdict: GraderVerdict;
  iteration: number;
  maxIterations: number;
}): AfterEvaluation {
  if (state.verdict === 'satisfied' || state.verdict === 'failed') return { kind: 'done', result: state.verdict };
  if (state.iteration + 1 >= state.maxIterations) return { kind: 'final_turn', result: 'max_iterations_reached' };
  return { kind: 'revise', iteration: state.iteration + 1 };
}

/**
 * The `result` the evaluation's end event carries: the verdict, except on the last iteration, where an unmet rubric
 * is `max_iterations_reached`.
 */
export function evaluationEndResult(next: AfterEvaluation): string {
  return next.kind === 'revise' ? 'needs_revision' : next.result;
}

/** The one outcome still being worked on (not terminal), if any: a session has at most one at a time. */
export function activeOutcome(outcomes: readonly OutcomeState[]): OutcomeState | null {
  return outcomes.find((outcome) => !isTerminal(outcome.result)) ?? null;
}

/** Why a new outcome cannot be defined now, or `null` when it can (the hosted rule: one active outcome at a time). */
export function defineOutcomeProblem(outcomes: readonly OutcomeState[]): string | null {
  const active = activeOutcome(outcomes);
  if (active === null) return null;
  return (
    `outcome ${active.outcomeId} is still ${active.result}: a session works on one outcome at a time; define the ` +
    'next one after it ends (or send user.interrupt to end it)'
  );
}

/**
 * The user-side message that hands the grader's explanation back to the agent for iteration `iteration`: a user text
 * message in the conversation (not a logged `user.message`; the log has it as the evaluation's end event).
 */
export function revisionMessage(explanation: string, iteration: number): string {
  return (
    `An independent grader evaluated your work against the outcome's rubric and found that it needs revision ` +
    `(revision ${iteration}). The grader's explanation:\n\n${explanation}\n\nRevise your work to meet every ` +
    'criterion, then end your turn; it will be evaluated again.'
  );
}

/** The user-side message of the last turn after `max_iterations_reached`: the agent acknowledges, nothing follows. */
export function finalTurnMessage(explanation: string): string {
  return (
    'An independent grader evaluated your work against the outcome’s rubric and found criteria still unmet, and ' +
    `the evaluation budget is spent: no further evaluation will run. The grader's explanation:\n\n${explanation}\n\n` +
    'Reply with a short account of where the work stands and what is left undone.'
  );
}

/** How much of the agent's work the grader reads: characters of its text and of the tool account. */
export const GRADER_READS = { messageChars: 20_000, toolLineChars: 600, toolLines: 60 } as const;

/**
 * What the agent produced in one iteration, read from the events it logged: its messages (the newest kept when they
 * are long) and one line per tool call and per result, shortened. Stored tool outputs (whose text is in the blob
 * store, not in the Workflow) show as `(output stored)`.
 */
export function iterationWork(events: readonly SessionEvent[]): { agentMessages: string[]; toolAccount: string[] } {
  const messages: string[] = [];
  const lines: string[] = [];
  for (const event of events) {
    if (event.type === 'agent.message') {
      messages.push(event.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n'));
    } else if (event.type === 'agent.tool_use' || event.type === 'agent.custom_tool_use') {
      lines.push(`call ${event.name} ${JSON.stringify(event.input)}`);
    } else if (event.type === 'agent.mcp_tool_use') {
      lines.push(`call ${event.mcp_server_name}/${event.name} ${JSON.stringify(event.input)}`);
    } else if (event.type === 'agent.tool_result' || event.type === 'agent.mcp_tool_result') {
      const text = (event.content ?? []).map((block) => (block.type === 'text' ? block.text : `[${block.type}]`));
      const output = text.join('\n') || '(output stored)';
      lines.push(`${event.is_error === true ? 'error' : 'result'}: ${output}`);
    }
  }
  return { agentMessages: newestWithin(messages, GRADER_READS.messageChars), toolAccount: toolLines(lines) };
}

/** The newest `messages` that fit in `chars` characters together, oldest first; the last one shortened to fit. */
function newestWithin(messages: string[], chars: number): string[] {
  const kept: string[] = [];
  let left = chars;
  for (let index = messages.length - 1; index >= 0 && left > 0; index -= 1) {
    const message = messages[index] ?? '';
    kept.unshift(message.length <= left ? message : `…${message.slice(message.length - left)}`);
    left -= message.length;
  }
  return kept;
}

/** The tool account: each line shortened, the first and last calls kept when there are many. */
function toolLines(lines: string[]): string[] {
  const shortened = lines.map((line) =>
    line.length <= GRADER_READS.toolLineChars ? line : `${line.slice(0, GRADER_READS.toolLineChars)}…`,
  );
  if (shortened.length <= GRADER_READS.toolLines) return shortened;
  const half = GRADER_READS.toolLines / 2;
  return [
    ...shortened.slice(0, half),
    `(${shortened.length - GRADER_READS.toolLines} lines left out)`,
    ...shortened.slice(-half),
  ];
}

/** An outcome as the session object's `outcome_evaluations` shows it. */
export function outcomeView(state: OutcomeState): OutcomeEvaluationView {
  return {
    type: 'outcome_evaluation',
    outcome_id: state.outcomeId,
    description: state.description,
    result: state.result,
    iteration: state.iteration,
    explanation: state.explanation,
    completed_at: state.completedAt,
  };
}
