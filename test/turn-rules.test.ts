import { sandboxIdleStopAfterMs } from '../workflows/sandbox-lifecycle';
import { describe, expect, it } from 'vitest';
import {
  COMPACTION_TRIGGER_RATIO,
  DEFAULT_CONTEXT_WINDOW_TOKENS,
  KEEP_RECENT_RATIO,
  KNOWN_CONTEXT_WINDOWS,
} from '../common/model-context';
import type { SessionLimits } from '../common/session';
import type { ModelFailureDecision } from '../workflows/model-failures';
import {
  contextBudget,
  decideAfterModelFailure,
  decideAfterReply,
  decideBeforeModelCall,
  usageSnapshotDue,
  USAGE_SNAPSHOT_EVERY_STEPS,
} from '../workflows/turn-rules';
import type { ContextBudget } from '../workflows/turn-rules';

const limits: SessionLimits = { maxStepsPerTurn: 50, continueAsNewAfterSteps: 200, maxModelAttempts: 5 };

const budget: ContextBudget = { contextWindowTokens: 100_000, compactAboveTokens: 75_000, keepRecentTokens: 20_000 };

const retryableFailure: ModelFailureDecision = {
  error: { type: 'model_overloaded_error', message: 'Overloaded' },
  retryable: true,
  retryDelayMs: 4_000,
  promptTooLong: false,
};

const rejectedFailure: ModelFailureDecision = {
  error: { type: 'model_request_failed_error', message: 'invalid request' },
  retryable: false,
  retryDelayMs: 0,
  promptTooLong: false,
};

const promptTooLongFailure: ModelFailureDecision = {
  error: { type: 'model_request_failed_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' },
  retryable: false,
  retryDelayMs: 0,
  promptTooLong: true,
};

describe('contextBudget', () => {
  it('gives a known model prefix its window, with the compaction threshold and the recent part as shares of it', () => {
    expect(KNOWN_CONTEXT_WINDOWS['claude-sonnet-4']).toBe(200_000);
    expect(contextBudget('claude-sonnet-4-5-20250929', limits)).toEqual({
      contextWindowTokens: 200_000,
      compactAboveTokens: Math.floor(200_000 * COMPACTION_TRIGGER_RATIO),
      keepRecentTokens: Math.floor(200_000 * KEEP_RECENT_RATIO),
    });
  });

  it('gives a model Keel does not know the default window', () => {
    const result = contextBudget('some-local-model', limits);
    expect(result.contextWindowTokens).toBe(DEFAULT_CONTEXT_WINDOW_TOKENS);
    expect(result.compactAboveTokens).toBe(Math.floor(DEFAULT_CONTEXT_WINDOW_TOKENS * COMPACTION_TRIGGER_RATIO));
    expect(result.keepRecentTokens).toBe(Math.floor(DEFAULT_CONTEXT_WINDOW_TOKENS * KEEP_RECENT_RATIO));
  });

  it('takes the window from limits.contextWindows over the known table and the default, rounding shares down', () => {
    const overridden: SessionLimits = {
      ...limits,
      contextWindows: { 'claude-sonnet-4-5': 10_001, 'some-local-model': 32_768 },
    };
    expect(contextBudget('claude-sonnet-4-5', overridden)).toEqual({
      contextWindowTokens: 10_001,
      compactAboveTokens: Math.floor(10_001 * COMPACTION_TRIGGER_RATIO),
      keepRecentTokens: Math.floor(10_001 * KEEP_RECENT_RATIO),
    });
    expect(contextBudget('some-local-model', overridden).contextWindowTokens).toBe(32_768);
    expect(contextBudget('claude-opus-4-1', overridden).contextWindowTokens).toBe(200_000);
  });
});

describe('decideBeforeModelCall', () => {
  const base = { stepsTaken: 3, maxStepsPerTurn: 10, promptEstimate: 1_000, budget, canCompact: true };

  it('stops the turn with tool_use_limit_reached_error when the steps taken reach the limit', () => {
    const decision = decideBeforeModelCall({ ...base, stepsTaken: 10, promptEstimate: 99_000 });
    expect(decision.kind).toBe('stop');
    if (decision.kind !== 'stop') return;
    expect(decision.error.type).toBe('tool_use_limit_reached_error');
    expect(decision.error.message).toContain('10');
  });

  it('calls the model one step below the limit', () => {
    expect(decideBeforeModelCall({ ...base, stepsTaken: 9 })).toEqual({ kind: 'call_model' });
  });

  it('compacts a stored conversation whose prompt estimate is above the threshold', () => {
    expect(decideBeforeModelCall({ ...base, promptEstimate: 75_001 })).toEqual({ kind: 'compact' });
  });

  it('calls the model when the prompt estimate is exactly at the threshold', () => {
    expect(decideBeforeModelCall({ ...base, promptEstimate: 75_000 })).toEqual({ kind: 'call_model' });
  });

  it('calls the model above the threshold when the conversation cannot compact (inline)', () => {
    expect(decideBeforeModelCall({ ...base, promptEstimate: 150_000, canCompact: false })).toEqual({
      kind: 'call_model',
    });
  });

  const limit = { type: 'limit' as const, max_list_cost: { amount: '50', currency: 'USD' as const } };

  it('pauses with budget_reached once the list cost reaches the budget, before the step limit or a compaction', () => {
    const reached = { budget: limit, listCostNano: 500_000_000n };
    expect(decideBeforeModelCall({ ...base, spend: reached })).toEqual({ kind: 'budget_reached' });
    expect(decideBeforeModelCall({ ...base, stepsTaken: 10, promptEstimate: 99_000, spend: reached })).toEqual({
      kind: 'budget_reached',
    });
  });

  it('pauses with budget_reached when the cost cannot be measured under a budget', () => {
    expect(decideBeforeModelCall({ ...base, spend: { budget: limit, listCostNano: null } })).toEqual({
      kind: 'budget_reached',
    });
  });

  it('calls the model below the budget, without a budget, and for sessions from before budgets', () => {
    expect(decideBeforeModelCall({ ...base, spend: { budget: limit, listCostNano: 499_999_999n } })).toEqual({
      kind: 'call_model',
    });
    expect(decideBeforeModelCall({ ...base, spend: { budget: null, listCostNano: null } })).toEqual({
      kind: 'call_model',
    });
    expect(decideBeforeModelCall(base)).toEqual({ kind: 'call_model' });
  });
});

describe('decideAfterModelFailure', () => {
  const base = {
    decision: retryableFailure,
    promptTooLong: false,
    attempt: 1,
    maxAttempts: 5,
    compactedForThisCall: false,
    canCompact: true,
  };

  it('compacts and retries a prompt too long for the window the first time', () => {
    expect(decideAfterModelFailure({ ...base, decision: promptTooLongFailure, promptTooLong: true })).toEqual({
      kind: 'compact_and_retry',
    });
  });

  it('gives up with compaction_limit_reached_error when a compaction could not make room', () => {
    const cannotCompact: ModelFailureDecision = { ...promptTooLongFailure, promptTooLong: false, cannotCompact: true };
    expect(decideAfterModelFailure({ ...base, decision: cannotCompact })).toEqual({
      kind: 'give_up',
      errorType: 'compaction_limit_reached_error',
    });
  });

  it('gives up with compaction_limit_reached_error when the prompt is still too long after a compaction', () => {
    expect(
      decideAfterModelFailure({
        ...base,
        decision: promptTooLongFailure,
        promptTooLong: true,
        compactedForThisCall: true,
      }),
    ).toEqual({ kind: 'give_up', errorType: 'compaction_limit_reached_error' });
  });

  it('gives up with compaction_limit_reached_error on a prompt too long for an inline conversation', () => {
    expect(
      decideAfterModelFailure({ ...base, decision: promptTooLongFailure, promptTooLong: true, canCompact: false }),
    ).toEqual({ kind: 'give_up', errorType: 'compaction_limit_reached_error' });
  });

  it('retries a retryable failure after its delay while attempts remain', () => {
    expect(decideAfterModelFailure({ ...base, attempt: 4 })).toEqual({ kind: 'retry', delayMs: 4_000 });
  });

  it('gives up without an error type when a retryable failure has used every attempt', () => {
    expect(decideAfterModelFailure({ ...base, attempt: 5 })).toEqual({ kind: 'give_up', errorType: null });
  });

  it('gives up without an error type on a non-retryable failure even with attempts left', () => {
    expect(decideAfterModelFailure({ ...base, decision: rejectedFailure })).toEqual({
      kind: 'give_up',
      errorType: null,
    });
  });
});

describe('decideAfterReply', () => {
  it('runs tools when the model stopped for tool_use and asked for at least one tool', () => {
    expect(decideAfterReply('tool_use', 2)).toBe('run_tools');
  });

  it('ends the turn on tool_use without any tool call', () => {
    expect(decideAfterReply('tool_use', 0)).toBe('end_turn');
  });

  it('ends the turn on end_turn, max_tokens or a missing stop reason', () => {
    expect(decideAfterReply('end_turn', 0)).toBe('end_turn');
    expect(decideAfterReply('max_tokens', 1)).toBe('end_turn');
    expect(decideAfterReply(null, 1)).toBe('end_turn');
  });
});

describe('usageSnapshotDue', () => {
  it('is due after every hundredth step of a turn, never before its first', () => {
    expect([0, 1, 99, 100, 101, 200, 250].filter(usageSnapshotDue)).toEqual([100, 200]);
    expect(USAGE_SNAPSHOT_EVERY_STEPS).toBe(100);
  });
});

describe('the idle sandbox rule', () => {
  it('stops a provisioned cloud sandbox after the timeout, and nothing else', () => {
    expect(sandboxIdleStopAfterMs({ sandboxProvisioned: true, selfHosted: false, idleTimeoutMs: 1_800_000 })).toBe(
      1_800_000,
    );
    expect(sandboxIdleStopAfterMs({ sandboxProvisioned: false, selfHosted: false, idleTimeoutMs: 1_800_000 })).toBe(
      null,
    );
    expect(sandboxIdleStopAfterMs({ sandboxProvisioned: true, selfHosted: true, idleTimeoutMs: 1_800_000 })).toBe(null);
    expect(sandboxIdleStopAfterMs({ sandboxProvisioned: true, selfHosted: false, idleTimeoutMs: 0 })).toBe(null);
    expect(sandboxIdleStopAfterMs({ sandboxProvisioned: true, selfHosted: false, idleTimeoutMs: undefined })).toBe(
      null,
    );
  });
});
