import type { MediaBlock } from './events';

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

/**
 * Whether `model` accepts mid-conversation `role: "system"` messages (what a `system.message` event becomes). Claude
 * models take them from Opus 4.8 on; earlier Claude models answer 400 ("role 'system' is not supported on this
 * model"). A name Keel cannot read as `claude-<family>-<major>[-<minor>]` (a future or custom model) is taken to
 * accept them, so Keel never refuses what the model may take; the model's own 400 still reaches the session.
 */
export function acceptsMidConversationSystem(model: string): boolean {
  const legacy = /^claude-(\d+)(?:-(\d))?-/.exec(model);
  if (legacy !== null) return false;
  const named = /^claude-[a-z]+-(\d+)(?:-(\d{1,2}))?(?:-|$)/.exec(model);
  if (named === null) return true;
  const major = Number(named[1]);
  const minor = named[2] === undefined ? 0 : Number(named[2]);
  return major > 4 || (major === 4 && minor >= 8);
}

/** Tokens the harness counts for an image until the model reports: a 1092×1092 image, the largest kept unscaled. */
export const IMAGE_TOKENS_ESTIMATE = 1_600;

/** Tokens the harness counts for a PDF or a document by reference until the model reports. */
export const DOCUMENT_TOKENS_ESTIMATE = 3_000;

/**
 * Estimates the tokens of a `user.message` image or document between two reported counts: a flat figure for an image,
 * the text's estimate for a plain-text document, and for a base64 PDF the larger of the flat figure and one token per
 * 16 bytes (a dense page is about 3,000 tokens for 50 KB).
 */
export function estimateMediaTokens(block: MediaBlock): number {
  if (block.type === 'image') return IMAGE_TOKENS_ESTIMATE;
  const source = block.source;
  if (source.type === 'text') return estimateTokensOfChars(source.data.length);
  if (source.type === 'base64') return Math.max(DOCUMENT_TOKENS_ESTIMATE, Math.ceil((source.data.length * 3) / 4 / 16));
  return DOCUMENT_TOKENS_ESTIMATE;
}
