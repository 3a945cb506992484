import { COMPACTION_TRIGGER_RATIO, contextWindowFor, KEEP_RECENT_RATIO } from '../common/model-context';
import type { SessionLimits } from '../common/session';
import { budgetReached } from '../common/list-price';
import type { BudgetLimit } from '../common/list-price';
import type { ModelFailureDecision } from './model-failures';

/**
 * The rules of a turn, as pure functions of the session state that return what to do next; the Turn executes what
 * they return (Activities, waits, events). Unit tests reach every rule in milliseconds, without Temporal.
 */

/** What to do before the next model call. */
export type BeforeModelCall =
  | { kind: 'call_model' }
  | { kind: 'compact' }
  | { kind: 'budget_reached' }
  | { kind: 'stop'; error: { type: 'tool_use_limit_reached_error'; message: string } };

/** The context budget of a session's model: the window, when to compact, and how much to keep verbatim. */
export interface ContextBudget {
  contextWindowTokens: number;
  /** Compact before a call whose prompt is estimated above this. */
  compactAboveTokens: number;
  /** Tokens of recent conversation kept verbatim by a compaction. */
  keepRecentTokens: number;
}

/** The context budget of `model` under the session's limits. */
export function contextBudget(model: string, limits: SessionLimits): ContextBudget {
  const contextWindowTokens = contextWindowFor(model, limits.contextWindows);
  return {
    contextWindowTokens,
    compactAboveTokens: Math.floor(contextWindowTokens * COMPACTION_TRIGGER_RATIO),
    keepRecentTokens: Math.floor(contextWindowTokens * KEEP_RECENT_RATIO),
  };
}

/** A session's spend before a model call: its budget (`null`: none) and its exact list cost (`null`: unmeasurable). */
export interface SessionSpend {
  budget: BudgetLimit | null;
  listCostNano: bigint | null;
}

/**
 * Decides what precedes the next model call: the turn pauses when the session's list cost has reached its budget
 * (or cannot be measured under one: the hosted `budget_reached`, no model call, no `session.error`), stops at the
 * step limit (the hosted API's `tool_use_limit_reached_error`), compacts when the prompt would pass the budget's threshold (only a stored
 * conversation compacts), and otherwise calls the model.
 */
export function decideBeforeModelCall(state: {
  stepsTaken: number;
  maxStepsPerTurn: number;
  promptEstimate: number;
  budget: ContextBudget;
  canCompact: boolean;
  /** Absent: no budget (sessions from before budgets). */
  spend?: SessionSpend;
}): BeforeModelCall {
  const spend = state.spend;
  if (spend !== undefined && spend.budget !== null && budgetReached(spend.listCostNano, spend.budget)) {
    return { kind: 'budget_reached' };
  }
  if (state.stepsTaken >= state.maxStepsPerTurn) {
    return {
      kind: 'stop',
      error: {
        type: 'tool_use_limit_reached_error',
        message: `The turn reached the step limit of ${state.maxStepsPerTurn} model calls and was ended.`,
      },
    };
  }
  if (state.canCompact && state.promptEstimate > state.budget.compactAboveTokens) return { kind: 'compact' };
  return { kind: 'call_model' };
}

/** What to do after a model call failed. */
export type AfterModelFailure =
  | { kind: 'retry'; delayMs: number }
  | { kind: 'compact_and_retry' }
  | { kind: 'give_up'; errorType: 'compaction_limit_reached_error' | null };

/**
 * Decides what follows a failed model call: a compaction that could not make room ends the turn with
 * `compaction_limit_reached_error`; a prompt too long for the window is compacted and called again (once per call: a
 * second refusal after a compaction means compaction cannot make room); a retryable failure is retried after its delay
 * while attempts remain; anything else ends the turn.
 */
export function decideAfterModelFailure(state: {
  decision: ModelFailureDecision;
  promptTooLong: boolean;
  attempt: number;
  maxAttempts: number;
  compactedForThisCall: boolean;
  canCompact: boolean;
}): AfterModelFailure {
  if (state.decision.cannotCompact === true) return { kind: 'give_up', errorType: 'compaction_limit_reached_error' };
  if (state.promptTooLong) {
    if (state.canCompact && !state.compactedForThisCall) return { kind: 'compact_and_retry' };
    return { kind: 'give_up', errorType: 'compaction_limit_reached_error' };
  }
  if (state.decision.retryable && state.attempt < state.maxAttempts) {
    return { kind: 'retry', delayMs: state.decision.retryDelayMs };
  }
  return { kind: 'give_up', errorType: null };
}

/** What follows a model reply: the turn ends unless the model asked for tools. */
export function decideAfterReply(stopReason: string | null, toolCalls: number): 'end_turn' | 'run_tools' {
  return stopReason === 'tool_use' && toolCalls > 0 ? 'run_tools' : 'end_turn';
}

/** Steps between two `session.usage` snapshots of a long turn (every turn also ends with one). */
export const USAGE_SNAPSHOT_EVERY_STEPS = 100;

/** Whether a turn that goes on after `stepsTaken` steps (counted across its runs) logs a `session.usage` snapshot now. */
export function usageSnapshotDue(stepsTaken: number): boolean {
  return stepsTaken > 0 && stepsTaken % USAGE_SNAPSHOT_EVERY_STEPS === 0;
}
