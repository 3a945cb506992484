import { describe, expect, it } from 'vitest';
import { readConfig } from '../common/config';
import {
  budgetReached,
  KNOWN_LIST_PRICES,
  listCostNano,
  listPriceFor,
  parseDollarsPerMillion,
  sameBudget,
  sessionListCostNano,
  toMonetaryAmount,
} from '../common/list-price';
import type { BudgetLimit, ModelListPrice } from '../common/list-price';
import { emptyUsage } from '../common/session';
import { budgetUpdateProblem } from '../workflows/session-update';

const sonnet: ModelListPrice = {
  input: 3_000,
  output: 15_000,
  cacheWrite5m: 3_750,
  cacheWrite1h: 6_000,
  cacheRead: 300,
};

function limit(amount: string): BudgetLimit {
  return { type: 'limit', max_list_cost: { amount, currency: 'USD' } };
}

describe('listPriceFor', () => {
  it('gives a known model the longest matching prefix, in nano-dollars per token', () => {
    expect(listPriceFor('claude-sonnet-4-5-20250929')).toEqual(sonnet);
    expect(listPriceFor('claude-opus-4-5-20251101')?.input).toBe(5_000);
    expect(listPriceFor('claude-opus-4-1-20250805')?.input).toBe(15_000);
    expect(listPriceFor('claude-3-haiku-20240307')).toEqual({
      input: 250,
      output: 1_250,
      cacheWrite5m: 300,
      cacheWrite1h: 500,
      cacheRead: 30,
    });
    expect(Object.keys(KNOWN_LIST_PRICES).length).toBeGreaterThan(5);
  });

  it('has no price for a model Keel does not know, unless an override names it', () => {
    expect(listPriceFor('some-local-model')).toBeNull();
    expect(listPriceFor('some-local-model', { 'some-local-model': sonnet })).toEqual(sonnet);
    expect(listPriceFor('claude-sonnet-4-5', { 'claude-sonnet-4-5': { ...sonnet, input: 1 } })?.input).toBe(1);
  });
});

describe('list cost arithmetic', () => {
  it('prices each kind of token at its rate, exactly, with no float drift', () => {
    const usage = {
      input_tokens: 1_234_567,
      output_tokens: 89_012,
      cache_creation_input_tokens: 45_678,
      cache_read_input_tokens: 9_876_543,
    };
    // 1,234,567 × 3,000 + 89,012 × 15,000 + 45,678 × 3,750 + 9,876,543 × 300 nano-dollars.
    expect(listCostNano(usage, sonnet)).toBe(3_703_701_000n + 1_335_180_000n + 171_292_500n + 2_962_962_900n);
    // $8.1731364 is 817.31364 cents: reported as 817.
    expect(toMonetaryAmount(listCostNano(usage, sonnet))).toEqual({ amount: '817', currency: 'USD' });
    // A million calls of 3 input tokens cost exactly what one call of three million does.
    let total = 0n;
    for (let call = 0; call < 1_000_000; call += 1) total += listCostNano({ ...emptyUsage(), input_tokens: 3 }, sonnet);
    expect(total).toBe(listCostNano({ ...emptyUsage(), input_tokens: 3_000_000 }, sonnet));
  });

  it('reports whole cents rounded half up', () => {
    expect(toMonetaryAmount(0n).amount).toBe('0');
    expect(toMonetaryAmount(4_999_999n).amount).toBe('0');
    expect(toMonetaryAmount(5_000_000n).amount).toBe('1');
    expect(toMonetaryAmount(25_000_000_000n).amount).toBe('2500');
  });

  it('sums the session cost model by model, and cannot measure usage of a model with no price', () => {
    const usage = { ...emptyUsage(), input_tokens: 10 };
    const prices: Record<string, ModelListPrice> = { priced: sonnet };
    const priceOf = (model: string): ModelListPrice | null => prices[model] ?? null;
    expect(sessionListCostNano({ priced: usage, other: emptyUsage() }, priceOf)).toBe(30_000n);
    expect(
      sessionListCostNano({ priced: usage, priced2: usage }, (model) =>
        model === 'priced2' ? sonnet : priceOf(model),
      ),
    ).toBe(60_000n);
    expect(sessionListCostNano({ priced: usage, other: usage }, priceOf)).toBeNull();
  });

  it('reaches the budget at or above max_list_cost, and always when the cost cannot be measured', () => {
    expect(budgetReached(4_999_999_999n, limit('500'))).toBe(false);
    expect(budgetReached(5_000_000_000n, limit('500'))).toBe(true);
    expect(budgetReached(null, limit('500'))).toBe(true);
    // Amounts beyond 2^53 cents compare exactly.
    expect(budgetReached(10n ** 26n, limit('10000000000000000000'))).toBe(true);
    expect(budgetReached(10n ** 26n - 1n, limit('10000000000000000000'))).toBe(false);
  });

  it('compares budgets by limit', () => {
    expect(sameBudget(limit('5'), limit('5'))).toBe(true);
    expect(sameBudget(limit('5'), limit('6'))).toBe(false);
    expect(sameBudget(null, limit('6'))).toBe(false);
    expect(sameBudget(null, null)).toBe(true);
  });
});

describe('budgetUpdateProblem', () => {
  const state = { current: limit('100'), priced: true, listCostNano: 100_000_000n }; // 10 cents.

  it('accepts a raise, a lowering above the consumed cost, and a removal', () => {
    expect(budgetUpdateProblem({ ...state, next: limit('500') })).toBeNull();
    expect(budgetUpdateProblem({ ...state, next: limit('11') })).toBeNull();
    expect(budgetUpdateProblem({ ...state, next: null })).toBeNull();
    expect(budgetUpdateProblem({ ...state, current: null, next: null })).toBeNull();
  });

  it('refuses with the hosted reasons, each at the start of the message', () => {
    expect(budgetUpdateProblem({ ...state, current: null, next: limit('500') })).toMatch(/^budget_create_only: /);
    expect(budgetUpdateProblem({ ...state, next: limit('10') })).toMatch(/^budget_not_raised: /);
    expect(budgetUpdateProblem({ ...state, next: limit('9') })).toMatch(/^budget_not_raised: /);
    expect(budgetUpdateProblem({ ...state, priced: false, next: limit('500') })).toMatch(/^model_not_budgetable: /);
  });
});

describe('KEEL_MODEL_PRICES', () => {
  it('parses dollars per million tokens into nano-dollars per token', () => {
    expect(parseDollarsPerMillion('3')).toBe(3_000);
    expect(parseDollarsPerMillion('0.3')).toBe(300);
    expect(parseDollarsPerMillion('18.75')).toBe(18_750);
    expect(parseDollarsPerMillion('0.001')).toBe(1);
    expect(parseDollarsPerMillion('0.0001')).toBeNull();
    expect(parseDollarsPerMillion('-1')).toBeNull();
    const config = readConfig({ KEEL_MODEL_PRICES: 'my-model=3/15/3.75/6/0.3, other=1/2/3/4/5' });
    expect(config.limits.modelPrices).toEqual({
      'my-model': sonnet,
      other: { input: 1_000, output: 2_000, cacheWrite5m: 3_000, cacheWrite1h: 4_000, cacheRead: 5_000 },
    });
    expect(readConfig({}).limits.modelPrices).toEqual({});
  });

  it('stops start-up with a message naming the variable when an entry is malformed', () => {
    expect(() => readConfig({ KEEL_MODEL_PRICES: 'my-model=3/15/3.75' })).toThrow(/KEEL_MODEL_PRICES/);
    expect(() => readConfig({ KEEL_MODEL_PRICES: 'my-model=3/15/3.75/6/abc' })).toThrow(/KEEL_MODEL_PRICES/);
  });
});
