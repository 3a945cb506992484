/**
 * Context windows of the models Keel knows, in tokens, by model-name prefix (the longest matching prefix wins). The
 * harness compacts a conversation before it outgrows its model's window; a model missing here gets
 * `DEFAULT_CONTEXT_WINDOW_TOKENS`, and `KEEL_MODEL_CONTEXT_WINDOWS` overrides any entry.
 */
export const KNOWN_CONTEXT_WINDOWS: Readonly<Record<string, number>> = {
  'claude-opus-4': 200_000,
  'claude-sonnet-4': 200_000,
  'claude-haiku-4': 200_000,
  'claude-3-7-sonnet': 200_000,
  'claude-3-5-sonnet': 200_000,
  'claude-3-5-haiku': 200_000,
  'claude-3-opus': 200_000,
  'claude-3-haiku': 200_000,
  'claude-sonnet-5': 200_000,
  'claude-opus-5': 200_000,
};

/** The window of a model Keel does not know: the window of every current Claude model. */
export const DEFAULT_CONTEXT_WINDOW_TOKENS = 200_000;

/** Share of the window at which the harness compacts before calling the model. */
export const COMPACTION_TRIGGER_RATIO = 0.75;

/** Share of the window kept verbatim (the most recent turns) when the harness compacts. */
export const KEEP_RECENT_RATIO = 0.2;

/** The context window of `model`: an override for it, else the longest known prefix, else the default. */
export function contextWindowFor(model: string, overrides: Readonly<Record<string, number>> = {}): number {
  const override = overrides[model];
  if (override !== undefined) return override;
  let best: { prefix: string; tokens: number } | null = null;
  for (const [prefix, tokens] of Object.entries(KNOWN_CONTEXT_WINDOWS)) {
    if (model.startsWith(prefix) && (best === null || prefix.length > best.prefix.length)) best = { prefix, tokens };
  }
  return best?.tokens ?? DEFAULT_CONTEXT_WINDOW_TOKENS;
}

/** Estimates the tokens of `chars` characters of text as the harness does between two reported counts: chars / 4. */
export function estimateTokensOfChars(chars: number): number {
  return Math.ceil(chars / 4);
}
