import { describe, expect, it } from 'vitest';
import type { LoggedEvent, SessionEvent } from '../common/events';
import { capWork, GRADER_READS, joinWork, workItems } from '../common/iteration-work';

const at = { id: 'sevt_x', processed_at: '2026-01-01T00:00:00.000Z' } as const;

/** An iteration's events: messages (some long), tool calls and results, enough lines to need the caps. */
function iterationEvents(steps: number): LoggedEvent[] {
  const events: SessionEvent[] = [];
  for (let step = 0; step < steps; step += 1) {
    const text = step % 9 === 0 ? `long ${step} ${'m'.repeat(4_000)}` : `message ${step}`;
    events.push({ ...at, type: 'agent.message', content: [{ type: 'text', text }] });
    events.push({
      ...at,
      type: 'agent.tool_use',
      name: 'bash',
      input: { command: `step ${step} ${'c'.repeat(step)}` },
    });
    events.push({
      ...at,
      type: 'agent.tool_result',
      tool_use_id: 'sevt_y',
      content: [{ type: 'text', text: `out ${step} ${'o'.repeat(step * 10)}` }],
      is_error: step % 7 === 0,
    });
  }
  return events.map((event, position) => ({ position, event }));
}

describe('joinWork', () => {
  it('gives the same work as capping the whole iteration, wherever a run split it and however long it was', () => {
    for (const steps of [3, 20, 29, 31, 45, 90]) {
      const entries = iterationEvents(steps);
      const whole = capWork(workItems(entries)).work;
      for (let split = 0; split <= entries.length; split += 7) {
        const later = capWork(workItems(entries.slice(split)));
        const joined = joinWork(workItems(entries.slice(0, split)), later.work, later.toolLineCount);
        expect(joined, `${steps} steps split at ${split}`).toEqual(whole);
      }
    }
  });

  it('keeps the caps: the newest text within its budget, the first and last lines with the count left out', () => {
    const entries = iterationEvents(90);
    const later = capWork(workItems(entries.slice(200)));
    const joined = joinWork(workItems(entries.slice(0, 200)), later.work, later.toolLineCount);
    expect(joined.agentMessages.join('').length).toBeLessThanOrEqual(GRADER_READS.messageChars + 1);
    expect(joined.agentMessages.at(-1)).toBe('message 89');
    expect(joined.toolAccount).toHaveLength(GRADER_READS.toolLines + 1);
    expect(joined.toolAccount[0]).toBe('call bash {"command":"step 0 "}');
    expect(joined.toolAccount[GRADER_READS.toolLines / 2]).toBe(`(${180 - GRADER_READS.toolLines} lines left out)`);
    expect(joined.toolAccount.at(-1)).toMatch(/^result: out 89 o+…$/);
  });
});

describe('workItems and capWork with stored tool results', () => {
  const stored: LoggedEvent = {
    position: 1,
    event: { ...at, type: 'agent.tool_result', tool_use_id: 'sevt_y', content: [{ type: 'text', text: '' }] },
    contentKey: 'tool-output/abc',
  };
  const call: LoggedEvent = { position: 0, event: { ...at, type: 'agent.tool_use', name: 'bash', input: {} } };

  it('uses a stored result text when it is known, and marks the line of one that is not', () => {
    expect(workItems([call, stored], new Map([['tool-output/abc', 'the real output']])).lines).toEqual([
      'call bash {}',
      'result: the real output',
    ]);
    const capped = capWork(workItems([call, stored]));
    expect(capped.work.toolAccount).toEqual(['call bash {}', 'result: (output stored)']);
    expect(capped.storedResults).toEqual([{ index: 1, contentKey: 'tool-output/abc', isError: false }]);
    expect(capped.toolLineCount).toBe(2);
  });
});
