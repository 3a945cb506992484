import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../common/events';
import { DEFAULT_MAX_ITERATIONS } from '../common/outcome';
import type { OutcomeState } from '../common/outcome';
import { graderPrompt, readVerdict } from '../activities/model/grade-outcome';
import { GRADER_READS, iterationWork } from '../common/iteration-work';
import {
  activeOutcome,
  decideAfterEvaluation,
  defineOutcomeProblem,
  evaluationEndResult,
  isTerminal,
  outcomeView,
  resolveMaxIterations,
  revisionMessage,
} from '../workflows/outcome-rules';

function outcome(overrides: Partial<OutcomeState> = {}): OutcomeState {
  return {
    outcomeId: 'outc_0123456789abcdef',
    description: 'Write hello.txt',
    rubric: { type: 'text', content: '- hello.txt exists' },
    maxIterations: 3,
    iteration: 0,
    result: 'running',
    explanation: null,
    completedAt: null,
    workFrom: 0,
    ...overrides,
  };
}

const at = { id: 'sevt_x', processed_at: '2026-01-01T00:00:00Z' };

describe('outcome rules: the next step after an evaluation', () => {
  it('ends the outcome on satisfied and on failed, whatever the iteration', () => {
    expect(decideAfterEvaluation({ verdict: 'satisfied', iteration: 0, maxIterations: 3 })).toEqual({
      kind: 'done',
      result: 'satisfied',
    });
    expect(decideAfterEvaluation({ verdict: 'failed', iteration: 2, maxIterations: 3 })).toEqual({
      kind: 'done',
      result: 'failed',
    });
  });

  it('starts the next iteration on needs_revision while the budget lasts, and logs needs_revision', () => {
    const next = decideAfterEvaluation({ verdict: 'needs_revision', iteration: 0, maxIterations: 3 });
    expect(next).toEqual({ kind: 'revise', iteration: 1 });
    expect(evaluationEndResult(next)).toBe('needs_revision');
    expect(decideAfterEvaluation({ verdict: 'needs_revision', iteration: 1, maxIterations: 3 })).toEqual({
      kind: 'revise',
      iteration: 2,
    });
  });

  it('turns needs_revision on the last evaluation into max_iterations_reached with one final turn', () => {
    const next = decideAfterEvaluation({ verdict: 'needs_revision', iteration: 2, maxIterations: 3 });
    expect(next).toEqual({ kind: 'final_turn', result: 'max_iterations_reached' });
    expect(evaluationEndResult(next)).toBe('max_iterations_reached');
    // max_iterations 1: one evaluation only, pass or not.
    expect(decideAfterEvaluation({ verdict: 'needs_revision', iteration: 0, maxIterations: 1 }).kind).toBe(
      'final_turn',
    );
  });

  it('defaults max_iterations to 3 and keeps a value that was sent', () => {
    expect(resolveMaxIterations(null)).toBe(DEFAULT_MAX_ITERATIONS);
    expect(DEFAULT_MAX_ITERATIONS).toBe(3);
    expect(resolveMaxIterations(7)).toBe(7);
  });
});

describe('outcome rules: one active outcome at a time', () => {
  it('finds the outcome not yet terminal and refuses a new one while it is there', () => {
    const done = outcome({ outcomeId: 'outc_done00000000', result: 'satisfied' });
    expect(activeOutcome([done])).toBeNull();
    expect(defineOutcomeProblem([done])).toBeNull();
    const running = outcome({ result: 'evaluating' });
    expect(activeOutcome([done, running])).toBe(running);
    expect(defineOutcomeProblem([done, running])).toMatch(/outc_0123456789abcdef is still evaluating/);
    for (const result of ['satisfied', 'failed', 'max_iterations_reached', 'interrupted'] as const) {
      expect(isTerminal(result)).toBe(true);
    }
    for (const result of ['pending', 'running', 'evaluating'] as const) expect(isTerminal(result)).toBe(false);
  });

  it('shows an outcome in the session object shape', () => {
    const view = outcomeView(outcome({ iteration: 1, explanation: 'ok', result: 'satisfied', completedAt: 'T' }));
    expect(view).toEqual({
      type: 'outcome_evaluation',
      outcome_id: 'outc_0123456789abcdef',
      description: 'Write hello.txt',
      result: 'satisfied',
      iteration: 1,
      explanation: 'ok',
      completed_at: 'T',
    });
  });
});

describe('outcome rules: what the grader reads of an iteration', () => {
  it('takes the agent messages and one line per tool call and result, stored outputs named as such', () => {
    const events: SessionEvent[] = [
      { ...at, type: 'agent.message', content: [{ type: 'text', text: 'Writing the file.' }] },
      { ...at, type: 'agent.tool_use', name: 'bash', input: { command: 'echo hi > hello.txt' } },
      {
        ...at,
        type: 'agent.tool_result',
        tool_use_id: 'sevt_y',
        content: [{ type: 'text', text: '' }],
        is_error: false,
      },
      {
        ...at,
        type: 'agent.tool_result',
        tool_use_id: 'sevt_z',
        content: [{ type: 'text', text: 'boom' }],
        is_error: true,
      },
      { ...at, type: 'session.status_running' },
      { ...at, type: 'agent.message', content: [{ type: 'text', text: 'Done: hello.txt written.' }] },
    ];
    expect(iterationWork(events)).toEqual({
      agentMessages: ['Writing the file.', 'Done: hello.txt written.'],
      toolAccount: ['call bash {"command":"echo hi > hello.txt"}', 'result: (output stored)', 'error: boom'],
    });
  });

  it('keeps the newest text within its budget and the first and last tool lines when there are many', () => {
    const long = 'x'.repeat(GRADER_READS.messageChars);
    const events: SessionEvent[] = [
      { ...at, type: 'agent.message', content: [{ type: 'text', text: 'old' }] },
      { ...at, type: 'agent.message', content: [{ type: 'text', text: long }] },
      ...Array.from({ length: 100 }, (_, index): SessionEvent => ({
        ...at,
        type: 'agent.tool_use',
        name: 'bash',
        input: { command: `step ${index} ${'y'.repeat(1_000)}` },
      })),
    ];
    const work = iterationWork(events);
    expect(work.agentMessages).toEqual([long]);
    expect(work.toolAccount).toHaveLength(GRADER_READS.toolLines + 1);
    expect(work.toolAccount[0]).toMatch(/^call bash \{"command":"step 0 y+…$/);
    expect(work.toolAccount[GRADER_READS.toolLines / 2]).toBe('(40 lines left out)');
    expect(work.toolAccount.at(-1)).toContain('step 99');
  });
});

describe('grader: prompt and verdict', () => {
  it('puts the rubric, the task and the work in tagged sections, and reads only a known verdict', () => {
    const prompt = graderPrompt(
      {
        sessionId: 'sesn_x',
        model: 'm',
        rubric: { type: 'text', content: 'unused' },
        description: 'Write hello.txt',
        agentMessages: ['Done.'],
        toolAccount: [],
        iteration: 2,
      },
      '- hello.txt exists',
    );
    expect(prompt).toContain('<rubric>\n- hello.txt exists\n</rubric>');
    expect(prompt).toContain('<task>\nWrite hello.txt\n</task>');
    expect(prompt).toContain('<agent_messages iteration="2">\nDone.\n</agent_messages>');
    expect(prompt).toContain('<agent_tool_calls>\n(none)\n</agent_tool_calls>');
    expect(readVerdict({ result: 'needs_revision', explanation: 'missing' })).toEqual({
      verdict: 'needs_revision',
      explanation: 'missing',
    });
    expect(readVerdict({ result: 'maybe', explanation: 'x' })).toBeNull();
    expect(readVerdict(null)).toBeNull();
    expect(revisionMessage('fix it', 1)).toContain('fix it');
  });
});
