import type { BetaMonetaryAmount } from '@anthropic-ai/sdk/resources/beta/beta';
import type { BetaManagedAgentsBudgetLimit } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { SessionUsage } from './session';

/** A session's spend ceiling, as the hosted API shapes it (`BetaManagedAgentsBudgetLimit`). */
export type BudgetLimit = BetaManagedAgentsBudgetLimit;

/** An amount of money in minor units (US cents), as the hosted API shapes it (`BetaMonetaryAmount`). */
export type MonetaryAmount = BetaMonetaryAmount;

/**
 * The public list price of a model, in nano-dollars per token (that is, US dollars per million tokens × 1000), so
 * every price on the public price list is a whole number and every cost is exact integer arithmetic.
 */
export interface ModelListPrice {
  input: number;
  output: number;
  /** Writes of a 5-minute prompt-cache entry. */
  cacheWrite5m: number;
  /** Writes of a 1-hour prompt-cache entry. */
  cacheWrite1h: number;
  cacheRead: number;
}

/** A price in US dollars per million tokens: input, output, 5-minute and 1-hour cache writes, cache reads. */
function perMillion(input: number, output: number, write5m: number, write1h: number, read: number): ModelListPrice {
  const nano = (dollars: number): number => Math.round(dollars * 1000);
  return {
    input: nano(input),
    output: nano(output),
    cacheWrite5m: nano(write5m),
    cacheWrite1h: nano(write1h),
    cacheRead: nano(read),
  };
}

/**
 * Public list prices of the Claude models Keel knows, by model-name prefix (the longest matching prefix wins), from
 * Anthropic's price page: cache writes cost 1.25× input (5 minutes) and 2× input (1 hour), cache reads 0.1× input. A
 * model missing here has no list price (a budget cannot measure it); `KEEL_MODEL_PRICES` adds or overrides entries.
 */
export const KNOWN_LIST_PRICES: Readonly<Record<string, ModelListPrice>> = {
  'claude-opus-4-8': perMillion(5, 25, 6.25, 10, 0.5),
  'claude-opus-4-7': perMillion(5, 25, 6.25, 10, 0.5),
  'claude-opus-4-6': perMillion(5, 25, 6.25, 10, 0.5),
  'claude-opus-4-5': perMillion(5, 25, 6.25, 10, 0.5),
  'claude-opus-4': perMillion(15, 75, 18.75, 30, 1.5),
  'claude-sonnet-4': perMillion(3, 15, 3.75, 6, 0.3),
  'claude-haiku-4-5': perMillion(1, 5, 1.25, 2, 0.1),
  'claude-3-7-sonnet': perMillion(3, 15, 3.75, 6, 0.3),
  'claude-3-5-sonnet': perMillion(3, 15, 3.75, 6, 0.3),
  'claude-3-5-haiku': perMillion(0.8, 4, 1, 1.6, 0.08),
  'claude-3-opus': perMillion(15, 75, 18.75, 30, 1.5),
  'claude-3-haiku': perMillion(0.25, 1.25, 0.3, 0.5, 0.03),
};

/** The list price of `model`: an override for it, else the longest known prefix, else `null` (no list price). */
export function listPriceFor(
  model: string,
  overrides: Readonly<Record<string, ModelListPrice>> = {},
): ModelListPrice | null {
  const override = overrides[model];
  if (override !== undefined) return override;
  let best: { prefix: string; price: ModelListPrice } | null = null;
  for (const [prefix, price] of Object.entries(KNOWN_LIST_PRICES)) {
    if (model.startsWith(prefix) && (best === null || prefix.length > best.prefix.length)) best = { prefix, price };
  }
  return best?.price ?? null;
}

/** Nano-dollars in one US cent. */
const NANO_PER_CENT = 10_000_000n;

/**
 * The exact list cost of `usage` at `price`, in nano-dollars (a `bigint`, so no sum ever rounds). Keel writes
 * 5-minute cache entries only, so every cache-creation token is priced as a 5-minute write.
 */
export function listCostNano(usage: SessionUsage, price: ModelListPrice): bigint {
  return (
    BigInt(usage.input_tokens) * BigInt(price.input) +
    BigInt(usage.output_tokens) * BigInt(price.output) +
    BigInt(usage.cache_creation_input_tokens) * BigInt(price.cacheWrite5m) +
    BigInt(usage.cache_read_input_tokens) * BigInt(price.cacheRead)
  );
}

/**
 * The exact list cost of a session's usage, summed model by model; `null` when some model with usage has no list
 * price (its cost cannot be measured).
 */
export function sessionListCostNano(
  usageByModel: Readonly<Record<string, SessionUsage>>,
  priceOf: (model: string) => ModelListPrice | null,
): bigint | null {
  let total = 0n;
  for (const [model, usage] of Object.entries(usageByModel)) {
    const price = priceOf(model);
    if (price === null) {
      if (Object.values(usage).some((count) => count > 0)) return null;
      continue;
    }
    total += listCostNano(usage, price);
  }
  return total;
}

/** A cost in nano-dollars as the API reports `list_cost`: whole cents, rounded to the nearest (half up). */
export function toMonetaryAmount(nano: bigint): MonetaryAmount {
  return { amount: ((nano + NANO_PER_CENT / 2n) / NANO_PER_CENT).toString(), currency: 'USD' };
}

/** Whether the cost reached the budget: an unmeasurable cost (`null`) counts as reached, as the hosted API does. */
export function budgetReached(costNano: bigint | null, budget: BudgetLimit): boolean {
  return costNano === null || costNano >= BigInt(budget.max_list_cost.amount) * NANO_PER_CENT;
}

/** Whether two budgets are the same limit. */
export function sameBudget(left: BudgetLimit | null, right: BudgetLimit | null): boolean {
  if (left === null || right === null) return left === right;
  return (
    left.max_list_cost.amount === right.max_list_cost.amount &&
    left.max_list_cost.currency === right.max_list_cost.currency
  );
}

/**
 * Parses a price override's figure in US dollars per million tokens (at most 3 decimals, so it is a whole number of
 * nano-dollars per token); `null` when it is not such a figure.
 */
export function parseDollarsPerMillion(text: string): number | null {
  const match = /^(\d{1,6})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (match === null) return null;
  return Number(match[1]) * 1000 + Number((match[2] ?? '').padEnd(3, '0'));
}
