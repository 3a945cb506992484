import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { BetaManagedAgentsBudgetLimit } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { rejection, sdkClient, untilLog } from './support/sdk';

/**
 * The scripted model's list price, in US dollars per million tokens (input, output, 5-minute and 1-hour cache writes,
 * cache reads): high, so a few calls cost cents.
 */
const PRICES = 'scripted-model=100/500/125/200/10';
/** The same prices in nano-dollars per token, for the test's own arithmetic. */
const NANO = { input: 100_000n, output: 500_000n, write5m: 125_000n, read: 10_000n };
const NANO_PER_CENT = 10_000_000n;

let harness: TestStack;
let client: Anthropic;
let agentId: string;
let environmentId: string;
/** While true, the scripted model answers every request with one more bash call; then it ends the turn. */
let keepCalling = true;

beforeAll(async () => {
  harness = await startTestStack({
    // A run continues-as-new every 3 model steps, so the budget and the paused turn cross runs.
    environment: { KEEL_MODEL_PRICES: PRICES, KEEL_CONTINUE_AS_NEW_AFTER_STEPS: '3' },
    model: {
      respond: () =>
        keepCalling
          ? { kind: 'tool_use', name: 'bash', input: { command: 'true' } }
          : { kind: 'text', text: 'Stopping here.' },
    },
  });
  client = sdkClient(harness.stack.apiUrl);
  const agent = await client.beta.agents.create({
    name: 'budgeted',
    model: 'scripted-model',
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  agentId = agent.id;
  environmentId = (await client.beta.environments.create({ name: 'budget env', config: { type: 'cloud' } })).id;
}, 120_000);

afterAll(async () => {
  await harness?.stop();
});

function limit(amount: string): BetaManagedAgentsBudgetLimit {
  return { type: 'limit', max_list_cost: { amount, currency: 'USD' } };
}

/** The `session.status_idle` events of a log whose stop reason is `type`. */
function idles(events: BetaManagedAgentsSessionEvent[], type: string): BetaManagedAgentsSessionEvent[] {
  return events.filter((event) => event.type === 'session.status_idle' && event.stop_reason?.type === type);
}

/** Waits until the log holds `count` idles with stop reason `type`. */
function untilIdles(sessionId: string, type: string, count: number): Promise<BetaManagedAgentsSessionEvent[]> {
  return untilLog(client, sessionId, (events) => idles(events, type).length >= count, {
    timeoutMs: 90_000,
    what: `${count} idle(s) with ${type}`,
  });
}

/** The exact list cost after each model call of the log, in nano-dollars, from the usage each call reported. */
function cumulativeCosts(events: BetaManagedAgentsSessionEvent[]): bigint[] {
  const costs: bigint[] = [];
  let total = 0n;
  for (const event of events) {
    if (event.type !== 'span.model_request_end' || event.is_error) continue;
    const usage = event.model_usage;
    total +=
      BigInt(usage.input_tokens) * NANO.input +
      BigInt(usage.output_tokens) * NANO.output +
      BigInt(usage.cache_creation_input_tokens) * NANO.write5m +
      BigInt(usage.cache_read_input_tokens) * NANO.read;
    costs.push(total);
  }
  return costs;
}

/** Whole cents, rounded half up, as `list_cost` reports them. */
function cents(nano: bigint): string {
  return ((nano + NANO_PER_CENT / 2n) / NANO_PER_CENT).toString();
}

async function send(sessionId: string, text: string): Promise<string> {
  const sent = await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
  const id = sent.data?.[0]?.id;
  if (id === undefined) throw new Error('no event id');
  return id;
}

describe('session budgets through the official SDK', () => {
  it('rejects a malformed budget with a 400 naming the field, and a model with no list price as model_not_budgetable', async () => {
    const bad: Array<[unknown, string]> = [
      [{ type: 'limit', max_list_cost: { amount: '025', currency: 'USD' } }, 'budget.max_list_cost.amount'],
      [{ type: 'limit', max_list_cost: { amount: '2.50', currency: 'USD' } }, 'budget.max_list_cost.amount'],
      [{ type: 'limit', max_list_cost: { amount: '0', currency: 'USD' } }, 'budget.max_list_cost.amount'],
      [{ type: 'limit', max_list_cost: { amount: 2500, currency: 'USD' } }, 'budget.max_list_cost.amount'],
      [{ type: 'limit', max_list_cost: { amount: '2500', currency: 'EUR' } }, 'budget.max_list_cost.currency'],
      [{ type: 'cap', max_list_cost: { amount: '2500', currency: 'USD' } }, 'budget.type'],
    ];
    for (const [budget, field] of bad) {
      const error = await rejection(
        client.beta.sessions.create({
          agent: agentId,
          environment_id: environmentId,
          budget: budget as BetaManagedAgentsBudgetLimit,
        }),
      );
      expect(error.status, JSON.stringify(budget)).toBe(400);
      expect(error.message).toContain(field);
    }

    const unpriced = await client.beta.agents.create({ name: 'unpriced', model: 'unpriced-model' });
    const refused = await rejection(
      client.beta.sessions.create({ agent: unpriced.id, environment_id: environmentId, budget: limit('100') }),
    );
    expect(refused.status).toBe(400);
    expect(refused.error).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect((refused.error as { error: { message: string } }).error.message).toMatch(/^model_not_budgetable: /);
  });

  it('shows budget null and a list cost on a session without one, and refuses to add one (budget_create_only)', async () => {
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    expect(session.budget).toBeNull();
    expect(session.usage.list_cost).toEqual({ amount: '0', currency: 'USD' });
    const added = await rejection(client.beta.sessions.update(session.id, { budget: limit('100') }));
    expect(added.status).toBe(400);
    expect((added.error as { error: { message: string } }).error.message).toMatch(/^budget_create_only: /);
    // Removing what is not there changes nothing, so it logs no session.updated.
    expect((await client.beta.sessions.update(session.id, { budget: null })).budget).toBeNull();
    const events = await untilLog(client, session.id, () => true);
    expect(events.filter((event) => event.type === 'session.updated')).toEqual([]);
  });

  it('pauses at the budget with budget_reached, resumes on a raise, refuses a lowering, and runs on after removal', async () => {
    keepCalling = true;
    const session = await client.beta.sessions.create({
      agent: agentId,
      environment_id: environmentId,
      budget: limit('60'),
    });
    expect(session.budget).toEqual(limit('60'));
    expect((await client.beta.sessions.retrieve(session.id)).budget).toEqual(limit('60'));
    const listed = [];
    for await (const entry of client.beta.sessions.list({ limit: 100 })) listed.push(entry);
    expect(listed.find((entry) => entry.id === session.id)?.budget).toEqual(limit('60'));

    // The turn calls the model until the list cost reaches 60 cents, then pauses before the next call.
    const messageId = await send(session.id, 'work until the budget is spent');
    let events = await untilIdles(session.id, 'budget_reached', 1);
    let costs = cumulativeCosts(events);
    const budgetNano = 60n * NANO_PER_CENT;
    expect(costs.at(-1)).toBeGreaterThanOrEqual(budgetNano);
    if (costs.length > 1) expect(costs.at(-2)).toBeLessThan(budgetNano);
    const turn = events.slice(events.findIndex((event) => event.id === messageId));
    expect(turn.filter((event) => event.type === 'session.error')).toEqual([]);
    expect(turn.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'budget_reached' } });
    const usageEvent = turn.findLast((event) => event.type === 'session.usage');
    expect(usageEvent).toMatchObject({
      budget: limit('60'),
      usage: { list_cost: { amount: cents(costs.at(-1) ?? 0n), currency: 'USD' } },
    });
    const paused = await client.beta.sessions.retrieve(session.id);
    expect(paused.status).toBe('idle');
    expect(paused.usage.list_cost).toEqual({ amount: cents(costs.at(-1) ?? 0n), currency: 'USD' });
    const modelCalls = costs.length;
    expect(modelCalls).toBeGreaterThan(1);
    // The spans carry what the scripted model reported: the session's usage adds up to its own totals.
    const totals = harness.model.cacheTotals();
    expect(paused.usage).toMatchObject({
      input_tokens: totals.inputTokens,
      cache_read_input_tokens: totals.cacheReadInputTokens,
      cache_creation: { ephemeral_5m_input_tokens: totals.cacheCreationInputTokens, ephemeral_1h_input_tokens: 0 },
    });
    expect(harness.model.requests.filter((request) => request.usage !== undefined)).toHaveLength(modelCalls);

    // A message sent over budget gets the same idle, with no model call.
    const requestsBefore = harness.model.requests.length;
    await send(session.id, 'one more thing');
    events = await untilIdles(session.id, 'budget_reached', 2);
    expect(harness.model.requests.length).toBe(requestsBefore);
    expect(cumulativeCosts(events)).toHaveLength(modelCalls);

    // Lowering to at or below the consumed cost is refused.
    const consumed = costs.at(-1) ?? 0n;
    const floorCents = (consumed / NANO_PER_CENT).toString();
    const lowered = await rejection(client.beta.sessions.update(session.id, { budget: limit(floorCents) }));
    expect(lowered.status).toBe(400);
    expect((lowered.error as { error: { message: string } }).error.message).toMatch(/^budget_not_raised: /);

    // A raise resumes the paused work, which pauses again at the new limit.
    const raisedAmount = (consumed / NANO_PER_CENT + 20n).toString();
    const raised = await client.beta.sessions.update(session.id, { budget: limit(raisedAmount) });
    expect(raised.budget).toEqual(limit(raisedAmount));
    events = await untilIdles(session.id, 'budget_reached', 3);
    costs = cumulativeCosts(events);
    expect(costs.length).toBeGreaterThan(modelCalls);
    expect(costs.at(-1)).toBeGreaterThanOrEqual(BigInt(raisedAmount) * NANO_PER_CENT);
    expect(costs.at(-2)).toBeLessThan(BigInt(raisedAmount) * NANO_PER_CENT);
    const updates = events.filter((event) => event.type === 'session.updated');
    expect(updates).toEqual([expect.objectContaining({ budget: limit(raisedAmount) })]);

    // Removing the budget resumes the work too; this time the model ends its turn.
    keepCalling = false;
    const removed = await client.beta.sessions.update(session.id, { budget: null });
    expect(removed.budget).toBeNull();
    events = await untilIdles(session.id, 'end_turn', 1);
    expect(events.filter((event) => event.type === 'session.updated').at(-1)).toMatchObject({ budget: null });
    expect(events.findLast((event) => event.type === 'session.usage')).toMatchObject({ budget: null });
    const after = await client.beta.sessions.retrieve(session.id);
    expect(after.budget).toBeNull();
    expect(after.usage.list_cost).toEqual({ amount: cents(cumulativeCosts(events).at(-1) ?? 0n), currency: 'USD' });

    // The session ran as a chain of runs, each starting with the budget and the cost the previous one carried.
    let runs = 0;
    for await (const execution of harness.stack.temporal.workflow.list({ query: `WorkflowId = '${session.id}'` })) {
      if (execution.status.name === 'CONTINUED_AS_NEW') runs += 1;
    }
    expect(runs).toBeGreaterThanOrEqual(2);

    // A removed budget cannot be re-added.
    const readded = await rejection(client.beta.sessions.update(session.id, { budget: limit('100000') }));
    expect((readded.error as { error: { message: string } }).error.message).toMatch(/^budget_create_only: /);
  });
});
