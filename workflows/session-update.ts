import type { UpdateSessionInput } from '../common/session';
import { budgetReached, toMonetaryAmount } from '../common/list-price';
import type { BudgetLimit } from '../common/list-price';

/** A session's title and metadata, as an update finds and leaves them. */
export interface SessionDetails {
  title: string | null;
  metadata: Record<string, string>;
}

/** What an update does: the details after it, and the `session.updated` fields, `null` when nothing changed. */
export interface SessionUpdateOutcome {
  details: SessionDetails;
  /** The fields of `session.updated`: only what changed, metadata as the whole bag (left out when emptied). */
  changed: { title?: string | null; metadata?: Record<string, string> } | null;
}

/**
 * Applies an update to a session's details. A metadata value of `null` removes its key. The hosted API emits
 * `session.updated` only when at least one field changed, with only the changed fields: the title, and the full
 * metadata bag when it is not empty (an update that clears metadata changes it, but carries no bag).
 */
export function applySessionUpdate(current: SessionDetails, update: UpdateSessionInput): SessionUpdateOutcome {
  const title = update.title === undefined ? current.title : update.title;
  const metadata = { ...current.metadata };
  for (const [key, value] of Object.entries(update.metadata ?? {})) {
    if (value === null) delete metadata[key];
    else metadata[key] = value;
  }
  const titleChanged = title !== current.title;
  const metadataChanged = !sameEntries(metadata, current.metadata);
  if (!titleChanged && !metadataChanged) return { details: current, changed: null };
  return {
    details: { title, metadata },
    changed: {
      ...(titleChanged ? { title } : {}),
      ...(metadataChanged && Object.keys(metadata).length > 0 ? { metadata } : {}),
    },
  };
}

function sameEntries(left: Record<string, string>, right: Record<string, string>): boolean {
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => right[key] === left[key]);
}

/**
 * Why `sessions.update` cannot set the session's budget to `next` (a new limit, or `null` to remove it), or `null`
 * when it can. Each refusal begins with the hosted API's reason: `budget_create_only` (no budget to replace: the
 * session was created without one, or it was removed), `model_not_budgetable` (the session's model has no list
 * price), `budget_not_raised` (the new limit is at or below the list cost already consumed). Removing always works.
 */
export function budgetUpdateProblem(state: {
  current: BudgetLimit | null;
  next: BudgetLimit | null;
  priced: boolean;
  listCostNano: bigint | null;
}): string | null {
  if (state.next === null) return null;
  if (state.current === null) {
    return (
      'budget_create_only: a budget can only be set when the session is created; this session has none (it was ' +
      'created without one, or its budget was removed)'
    );
  }
  if (!state.priced || state.listCostNano === null) {
    return "model_not_budgetable: the session's model has no list price in Keel's table (see KEEL_MODEL_PRICES)";
  }
  if (budgetReached(state.listCostNano, state.next)) {
    const consumed = toMonetaryAmount(state.listCostNano).amount;
    return (
      `budget_not_raised: budget.max_list_cost.amount ${state.next.max_list_cost.amount} is at or below the ` +
      `session's consumed list cost (about ${consumed} cents)`
    );
  }
  return null;
}
