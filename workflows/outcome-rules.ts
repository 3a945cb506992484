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
