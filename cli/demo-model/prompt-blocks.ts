import { createHash } from 'node:crypto';
import { tokensForCharacters } from './messages-wire';
import type { MessagesRequest } from './messages-wire';

/** A `cache_control` marker as the API takes it; `ttl` defaults to five minutes. */
export interface CacheControlMarker {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

/**
 * One block of the prompt in the API's prefix order (tools, then system, then messages block by block), with the
 * canonical text that the token estimate and the prompt-cache hash read.
 */
export interface PromptBlock {
  /** Where the block sits in the request body, as the API names fields in errors: `tools.0`, `messages.2.content.1`. */
  path: string;
  /** Sorted-key JSON of the block and its place, without `cache_control` and with base64 media replaced by a digest. */
  canonical: string;
  /** The flat token charge of the base64 media (images, PDFs) in the block, which `canonical` leaves out. */
  mediaTokens: number;
  /** The block's cache breakpoint, if it carries one (on a tool_result, also one set on a block inside its content). */
  cacheControl: CacheControlMarker | undefined;
}

/**
 * The flat charge for one base64 image or document: the API counts an image as about width × height / 750 tokens, which
 * is at most about 1,600 for the largest image it accepts unscaled, whatever the size of the base64 text.
 */
export const mediaBlockTokens = 1600;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asMarker(value: unknown): CacheControlMarker | undefined {
  return isObject(value) && value.type === 'ephemeral' ? (value as unknown as CacheControlMarker) : undefined;
}

// Sorts keys at every depth (so two clients that build the same block in a different key order send the same prompt)
// and replaces base64 data by its digest, counting the media it replaced.
function canonicalize(value: unknown, media: { count: number }): unknown {
  if (Array.isArray(value)) return value.map((item) => canonicalize(item, media));
  if (!isObject(value)) return value;
  let object = value;
  if (object.type === 'base64' && typeof object.data === 'string') {
    media.count += 1;
    object = { ...object, data: `sha256:${createHash('sha256').update(object.data).digest('hex')}` };
  }
  const keys = Object.keys(object).sort();
  return Object.fromEntries(keys.map((key) => [key, canonicalize(object[key], media)]));
}

// Removes the cache markers of a block (its own, and those of the blocks inside a tool_result) and returns the first.
function withoutCacheControl(block: JsonObject): { block: JsonObject; marker: CacheControlMarker | undefined } {
  const { cache_control: ownMarker, ...rest } = block;
  let marker = asMarker(ownMarker);
  if (rest.type === 'tool_result' && Array.isArray(rest.content)) {
    rest.content = (rest.content as unknown[]).map((part) => {
      if (!isObject(part)) return part;
      const { cache_control: partMarker, ...partRest } = part;
      marker ??= asMarker(partMarker);
      return partRest;
    });
  }
  return { block: rest, marker };
}

function toPromptBlock(path: string, scope: unknown[], block: JsonObject): PromptBlock {
  const stripped = withoutCacheControl(block);
  const media = { count: 0 };
  const canonical = JSON.stringify(canonicalize([...scope, stripped.block], media));
  return { path, canonical, mediaTokens: media.count * mediaBlockTokens, cacheControl: stripped.marker };
}

function asBlocks(content: unknown): JsonObject[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content.filter(isObject) : [];
}

/**
 * Flattens a request into its prompt blocks in prefix order: each tool definition, each system block (a string system
 * prompt is one text block), each message content block (a string content is one text block). A top-level
 * `cache_control` (automatic caching) puts a breakpoint on the last block, as the API does.
 */
export function promptBlocks(request: MessagesRequest): PromptBlock[] {
  const blocks: PromptBlock[] = [];
  (request.tools ?? []).forEach((tool, index) => blocks.push(toPromptBlock(`tools.${index}`, ['tools'], tool)));
  const system = request.system === undefined ? [] : asBlocks(request.system);
  system.forEach((block, index) => blocks.push(toPromptBlock(`system.${index}`, ['system'], block)));
  request.messages.forEach((message, messageIndex) => {
    asBlocks(message.content).forEach((block, index) => {
      blocks.push(toPromptBlock(`messages.${messageIndex}.content.${index}`, ['messages', message.role], block));
    });
  });
  const last = blocks.at(-1);
  const automatic = asMarker(request.cache_control);
  if (last && automatic) last.cacheControl ??= automatic;
  return blocks;
}

/**
 * Returns the token estimate of every prefix: entry `i` counts blocks `0..i` as the characters of the JSON array of their
 * canonical texts divided by four (rounded up), plus the flat charge of their media. The counts never decrease, and the
 * last one is the estimate of the whole prompt.
 */
export function prefixTokenCounts(blocks: PromptBlock[]): number[] {
  let characters = 2;
  let mediaTokens = 0;
  return blocks.map((block, index) => {
    characters += block.canonical.length + (index > 0 ? 1 : 0);
    mediaTokens += block.mediaTokens;
    return tokensForCharacters(characters) + mediaTokens;
  });
}

/** Estimates the input tokens of a flattened prompt; the same number as the last prefix count (one for no blocks). */
export function estimatePromptTokens(blocks: PromptBlock[]): number {
  return prefixTokenCounts(blocks).at(-1) ?? tokensForCharacters(2);
}

/**
 * Estimates the input tokens of a request from its tools, system prompt and messages: deterministic (a quarter of the
 * characters of their canonical JSON, plus 1,600 per base64 image or document), and blind to `cache_control`, so moving
 * a cache breakpoint never changes the count.
 */
export function estimateInputTokens(request: MessagesRequest): number {
  return estimatePromptTokens(promptBlocks(request));
}
