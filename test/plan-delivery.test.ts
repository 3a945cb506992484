import { describe, expect, it } from 'vitest';
import { initialEventsOf, planDelivery } from '../server/sessions/plan-delivery';
import type { DeliveryIds, PlannedDelivery } from '../server/sessions/plan-delivery';

const NOW = '2026-12-06T00:00:00.000Z';

/** Ids `sevt_1`, `sevt_2`, … and `outc_1`, … in the order the plan asks for them. */
function stamps(): DeliveryIds {
  let events = 0;
  let outcomes = 0;
  return { eventId: () => `sevt_${++events}`, outcomeId: () => `outc_${++outcomes}` };
}

/** What a plan sends, in order, and what it echoes with every delivery sent at `NOW`. */
function flat(plan: PlannedDelivery[]): { deliveries: unknown[]; echoes: unknown[] } {
  return { deliveries: plan.map((step) => step.delivery), echoes: plan.flatMap((step) => step.echoes(NOW)) };
}

const text = (value: string) => [{ type: 'text' as const, text: value }];

describe('planDelivery', () => {
  it('sends a user.message with the system.message after it in one delivery, and echoes both with their own ids', () => {
    const plan = flat(
      planDelivery(
        [
          { type: 'user.message', content: text('hi') },
          { type: 'system.message', content: text('be brief') },
        ],
        new Map(),
        stamps(),
      ),
    );
    expect(plan.deliveries).toEqual([
      { type: 'user.message', id: 'sevt_1', content: text('hi'), system: { id: 'sevt_2', content: text('be brief') } },
    ]);
    expect(plan.echoes).toEqual([
      { type: 'user.message', id: 'sevt_1', content: text('hi'), processed_at: NOW },
      { type: 'system.message', id: 'sevt_2', content: text('be brief'), processed_at: NOW },
    ]);
  });

  it('keeps the order of the events, gives an outcome its outcome id, and a child thread interrupt its thread', () => {
    const rubric = { type: 'text' as const, content: 'It is done.' };
    const plan = flat(
      planDelivery(
        [
          { type: 'user.define_outcome', description: 'Do it', rubric },
          { type: 'user.interrupt', session_thread_id: 'sthr_child' },
          { type: 'user.interrupt', session_thread_id: null },
          { type: 'user.message', content: text('go') },
        ],
        new Map(),
        stamps(),
      ),
    );
    expect(plan.deliveries).toEqual([
      {
        type: 'user.define_outcome',
        id: 'sevt_1',
        outcomeId: 'outc_1',
        description: 'Do it',
        rubric,
        maxIterations: null,
      },
      { type: 'user.interrupt', id: 'sevt_2', threadId: 'sthr_child' },
      { type: 'user.interrupt', id: 'sevt_3' },
      { type: 'user.message', id: 'sevt_4', content: text('go') },
    ]);
    expect(plan.echoes).toEqual([
      {
        type: 'user.define_outcome',
        id: 'sevt_1',
        outcome_id: 'outc_1',
        description: 'Do it',
        rubric,
        max_iterations: null,
        processed_at: NOW,
      },
      { type: 'user.interrupt', id: 'sevt_2', session_thread_id: 'sthr_child', processed_at: NOW },
      { type: 'user.interrupt', id: 'sevt_3', processed_at: NOW },
      { type: 'user.message', id: 'sevt_4', content: text('go'), processed_at: NOW },
    ]);
  });

  it('answers waiting calls with the defaults the API documents, echoing the child thread each call belongs to', () => {
    const plan = flat(
      planDelivery(
        [
          { type: 'user.tool_confirmation', tool_use_id: 'sevt_use1', result: 'deny', deny_message: 'not now' },
          { type: 'user.tool_confirmation', tool_use_id: 'sevt_use2', result: 'allow' },
          { type: 'user.custom_tool_result', custom_tool_use_id: 'sevt_use3' },
          { type: 'system.message', content: text('next, summarise') },
          { type: 'user.tool_result', tool_use_id: 'sevt_use4', content: text('42'), is_error: true },
        ],
        new Map([['sevt_use2', 'sthr_child']]),
        stamps(),
      ),
    );
    expect(plan.deliveries).toEqual([
      { type: 'user.tool_confirmation', id: 'sevt_1', toolUseId: 'sevt_use1', result: 'deny', denyMessage: 'not now' },
      { type: 'user.tool_confirmation', id: 'sevt_2', toolUseId: 'sevt_use2', result: 'allow', denyMessage: null },
      {
        type: 'user.custom_tool_result',
        id: 'sevt_3',
        customToolUseId: 'sevt_use3',
        content: [],
        isError: false,
        system: { id: 'sevt_4', content: text('next, summarise') },
      },
      { type: 'user.tool_result', id: 'sevt_5', toolUseId: 'sevt_use4', content: text('42'), isError: true },
    ]);
    expect(plan.echoes).toEqual([
      {
        type: 'user.tool_confirmation',
        id: 'sevt_1',
        tool_use_id: 'sevt_use1',
        result: 'deny',
        deny_message: 'not now',
        processed_at: NOW,
      },
      {
        type: 'user.tool_confirmation',
        id: 'sevt_2',
        tool_use_id: 'sevt_use2',
        result: 'allow',
        session_thread_id: 'sthr_child',
        processed_at: NOW,
      },
      {
        type: 'user.custom_tool_result',
        id: 'sevt_3',
        custom_tool_use_id: 'sevt_use3',
        content: [],
        is_error: false,
        processed_at: NOW,
      },
      { type: 'system.message', id: 'sevt_4', content: text('next, summarise'), processed_at: NOW },
      {
        type: 'user.tool_result',
        id: 'sevt_5',
        tool_use_id: 'sevt_use4',
        content: text('42'),
        is_error: true,
        processed_at: NOW,
      },
    ]);
  });
});

describe('planDelivery echoes', () => {
  it("stamps each delivery's echoes with the time it is sent, a system.message with its user.message", () => {
    const plan = planDelivery(
      [
        { type: 'user.interrupt' },
        { type: 'user.message', content: text('hi') },
        { type: 'system.message', content: text('be brief') },
      ],
      new Map(),
      stamps(),
    );
    expect(plan.map((step, index) => step.echoes(`t${index}`).map((echo) => [echo.type, echo.processed_at]))).toEqual([
      [['user.interrupt', 't0']],
      [
        ['user.message', 't1'],
        ['system.message', 't1'],
      ],
    ]);
  });
});

describe('initialEventsOf', () => {
  it("passes a new session's messages, interrupts and outcome on in order, and refuses an answer", () => {
    const deliveries = planDelivery(
      [
        {
          type: 'user.define_outcome',
          description: 'Do it',
          rubric: { type: 'text', content: 'done' },
          max_iterations: 3,
        },
        { type: 'user.message', content: text('go') },
      ],
      new Map(),
      stamps(),
    ).map((step) => step.delivery);
    expect(initialEventsOf(deliveries)).toEqual(deliveries);
    expect(initialEventsOf(deliveries).map((event) => event.type)).toEqual(['user.define_outcome', 'user.message']);
    const answer = planDelivery([{ type: 'user.tool_result', tool_use_id: 'sevt_use1' }], new Map(), stamps());
    expect(() => initialEventsOf(answer.map((step) => step.delivery))).toThrow(
      "A new session's initial events cannot hold a user.tool_result.",
    );
  });
});
