import { createHash } from 'node:crypto';
import { prefixTokenCounts } from '../../cli/demo-model/prompt-blocks';
import type { PromptBlock } from '../../cli/demo-model/prompt-blocks';
import type { CacheUsage } from '../../cli/demo-model/messages-wire';

/** The shortest prefix the API caches (1,024 tokens for Sonnet and Opus models); a shorter breakpoint writes nothing. */
export const minimumCacheableTokens = 1024;

/** The most blocks with `cache_control` one request may carry; the API refuses more with a 400. */
export const maximumCacheBreakpoints = 4;

/** How many block boundaries before a breakpoint the API also checks for a cache hit when the breakpoint misses. */
export const cacheLookbackBlocks = 20;

/** The usage of one request under prompt caching: `inputTokens` is the part neither read from nor written to the cache. */
export interface PromptCacheUsage extends CacheUsage {
  inputTokens: number;
}

/** A prefix to remember as cached: the hash of its canonical text and its token count. */
export interface PromptCacheWrite {
  hash: string;
  tokens: number;
}

/** The outcome of accounting one request: the usage to report, and the prefixes to add to the cache afterwards. */
export interface PromptCacheAccount {
  usage: PromptCacheUsage;
  writes: PromptCacheWrite[];
}

/**
 * Returns the hash of every prefix, chained (hash `i` covers blocks `0..i`), so two requests share a hash exactly when
 * they share the canonical text of every block up to there.
 */
export function prefixHashes(blocks: PromptBlock[]): string[] {
  let previous = '';
  return blocks.map((block) => {
    previous = createHash('sha256').update(`${previous}\n${block.canonical}`).digest('hex');
    return previous;
  });
}

/** Returns the API's 400 message when the request has more than four cache breakpoints, or undefined when it is fine. */
export function breakpointLimitError(blocks: PromptBlock[]): string | undefined {
  const found = blocks.filter((block) => block.cacheControl !== undefined).length;
  if (found <= maximumCacheBreakpoints) return undefined;
  return `A maximum of ${maximumCacheBreakpoints} blocks with cache_control may be provided. Found ${found}.`;
}

/**
 * Accounts one request against the cached prefixes as the API does. The read is the longest breakpoint prefix found in
 * the cache, where a breakpoint that misses also checks the 20 block boundaries before it. When the last breakpoint's
 * prefix reaches the minimum cacheable length, the tokens from the read up to it are written (each stretch under the
 * TTL of the breakpoint that ends it); otherwise nothing is written. The rest of the prompt is plain input. Every
 * breakpoint prefix of at least the minimum length is returned as a write, a hit included (a hit refreshes the entry).
 */
export function accountPromptCache(
  blocks: PromptBlock[],
  cachedPrefixes: ReadonlyMap<string, number>,
  minimumTokens = minimumCacheableTokens,
): PromptCacheAccount {
  const tokens = prefixTokenCounts(blocks);
  const hashes = prefixHashes(blocks);
  const total = tokens.at(-1) ?? 1;
  const breakpoints = blocks.flatMap((block, index) => (block.cacheControl ? [index] : []));
  let read = 0;
  for (const breakpoint of breakpoints) {
    const earliest = Math.max(0, breakpoint - cacheLookbackBlocks);
    for (let boundary = breakpoint; boundary >= earliest; boundary -= 1) {
      if (cachedPrefixes.has(hashes[boundary] ?? '')) {
        read = Math.max(read, tokens[boundary] ?? 0);
        break;
      }
    }
  }
  const usage: PromptCacheUsage = {
    inputTokens: 0,
    cacheReadInputTokens: read,
    cacheCreationInputTokens: 0,
    ephemeral5mInputTokens: 0,
    ephemeral1hInputTokens: 0,
  };
  const last = breakpoints.at(-1);
  if (last !== undefined && (tokens[last] ?? 0) >= minimumTokens) {
    let covered = read;
    for (const breakpoint of breakpoints) {
      const written = (tokens[breakpoint] ?? 0) - covered;
      if (written <= 0) continue;
      if (blocks[breakpoint]?.cacheControl?.ttl === '1h') usage.ephemeral1hInputTokens += written;
      else usage.ephemeral5mInputTokens += written;
      usage.cacheCreationInputTokens += written;
      covered += written;
    }
  }
  usage.inputTokens = total - usage.cacheReadInputTokens - usage.cacheCreationInputTokens;
  const writes = breakpoints
    .filter((breakpoint) => (tokens[breakpoint] ?? 0) >= minimumTokens)
    .map((breakpoint) => ({ hash: hashes[breakpoint] ?? '', tokens: tokens[breakpoint] ?? 0 }));
  return { usage, writes };
}
