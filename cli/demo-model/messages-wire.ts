import { createHash, randomBytes } from 'node:crypto';
import type { ContentBlock, Message, RawMessageStreamEvent, StopReason } from '@anthropic-ai/sdk/resources/messages';
import type { ErrorType } from '@anthropic-ai/sdk/resources/shared';
import { acceptsMidConversationSystem } from '../../common/model-context';

/** A Messages API request body that passed `parseMessagesRequest`; fields beyond the validated ones stay untyped. */
export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: Array<{ role: 'user' | 'assistant' | 'system'; content: string | Array<Record<string, unknown>> }>;
  stream?: boolean;
  tools?: Array<Record<string, unknown>>;
  [field: string]: unknown;
}

/** The outcome of validating a request body: the request, or a 400 message that names the wrong field. */
export type ParsedMessagesRequest = { ok: true; request: MessagesRequest } | { ok: false; message: string };

/** An error body exactly as the Messages API sends it, so the SDK builds the matching error class. */
export interface ErrorBody {
  type: 'error';
  error: { type: ErrorType; message: string };
}

/** A content block the fake servers can produce: thinking (signed when no signature is given), text or a tool call. */
export type ReplyBlock =
  | { type: 'thinking'; thinking: string; signature?: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id?: string; name: string; input: unknown };

/** The prompt-cache part of a response's usage; every field is a token count and the fields default to zero. */
export interface CacheUsage {
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  ephemeral5mInputTokens: number;
  ephemeral1hInputTokens: number;
}

const errorTypesByStatus: Record<number, ErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** Returns a random id with the given prefix (`msg`, `toolu`, `req`), shaped like the API's own ids. */
export function newWireId(prefix: string): string {
  return `${prefix}_01${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

/** Estimates the tokens of a text of the given length in UTF-16 code units: a quarter of it, rounded up, at least one. */
export function tokensForCharacters(characters: number): number {
  return Math.max(1, Math.ceil(characters / 4));
}

/** Estimates tokens as characters divided by four, which is close enough for usage counters on a fake model. */
export function estimateTokens(text: string): number {
  return tokensForCharacters(text.length);
}

/**
 * Returns the deterministic signature the fake servers give a thinking block: base64 of a SHA-256 over its text, so a
 * test can predict it and a block passed back unchanged carries the signature it was given.
 */
export function thinkingSignature(thinking: string): string {
  return createHash('sha256').update(`keel-scripted-thinking\n${thinking}`).digest('base64');
}

function outputText(block: ReplyBlock): string {
  if (block.type === 'thinking') return block.thinking;
  return block.type === 'text' ? block.text : JSON.stringify(block.input);
}

function toContentBlock(block: ReplyBlock): ContentBlock {
  if (block.type === 'thinking') {
    return {
      type: 'thinking',
      thinking: block.thinking,
      signature: block.signature ?? thinkingSignature(block.thinking),
    };
  }
  if (block.type === 'text') return { type: 'text', text: block.text, citations: null };
  return {
    type: 'tool_use',
    id: block.id ?? newWireId('toolu'),
    name: block.name,
    input: block.input,
    caller: { type: 'direct' },
  };
}

/** Maps an HTTP status to the API's error type, so each status raises the SDK error class it names. */
export function errorTypeForStatus(status: number): ErrorType {
  return errorTypesByStatus[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** Builds the API error body for a status; the body's type always matches the status. */
export function buildErrorBody(status: number, message: string): ErrorBody {
  return { type: 'error', error: { type: errorTypeForStatus(status), message } };
}

/**
 * Builds a complete assistant `Message` with every field the SDK types declare, counting output tokens roughly.
 * `inputTokens` is the uncached part of the prompt; `cache` holds the part read from or written to the prompt cache.
 */
export function buildMessage(options: {
  model: string;
  blocks: ReplyBlock[];
  stopReason: StopReason;
  inputTokens: number;
  cache?: CacheUsage;
  id?: string;
}): Message {
  const cache = options.cache;
  return {
    id: options.id ?? newWireId('msg'),
    type: 'message',
    role: 'assistant',
    model: options.model,
    content: options.blocks.map(toContentBlock),
    stop_reason: options.stopReason,
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: {
      input_tokens: options.inputTokens,
      output_tokens: estimateTokens(options.blocks.map(outputText).join('')),
      cache_creation_input_tokens: cache?.cacheCreationInputTokens ?? 0,
      cache_read_input_tokens: cache?.cacheReadInputTokens ?? 0,
      cache_creation: {
        ephemeral_1h_input_tokens: cache?.ephemeral1hInputTokens ?? 0,
        ephemeral_5m_input_tokens: cache?.ephemeral5mInputTokens ?? 0,
      },
      output_tokens_details: null,
      server_tool_use: null,
      service_tier: 'standard',
      inference_geo: null,
      speed: null,
    },
  };
}

/** Splits text into chunks of a few code points (never inside a surrogate pair), as a model streams tokens. */
export function splitIntoChunks(text: string, chunkLength = 12): string[] {
  const codePoints = Array.from(text);
  const chunks: string[] = [];
  for (let start = 0; start < codePoints.length; start += chunkLength) {
    chunks.push(codePoints.slice(start, start + chunkLength).join(''));
  }
  return chunks;
}

/**
 * Turns a finished Message into the event sequence the API streams for it, from `message_start` to `message_stop`. A
 * thinking block streams as the API streams it: an empty block, `thinking_delta` chunks, then one `signature_delta`.
 */
export function messageToStreamEvents(message: Message, chunkLength = 12): RawMessageStreamEvent[] {
  const start: Message = {
    ...message,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { ...message.usage, output_tokens: 1 },
  };
  const events: RawMessageStreamEvent[] = [{ type: 'message_start', message: start }];
  message.content.forEach((block, index) => {
    if (block.type === 'thinking') {
      events.push({ type: 'content_block_start', index, content_block: { ...block, thinking: '', signature: '' } });
      for (const thinking of splitIntoChunks(block.thinking, chunkLength)) {
        events.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking } });
      }
      events.push({
        type: 'content_block_delta',
        index,
        delta: { type: 'signature_delta', signature: block.signature },
      });
    } else if (block.type === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { ...block, text: '' } });
      for (const text of splitIntoChunks(block.text, chunkLength)) {
        events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
      }
    } else if (block.type === 'tool_use') {
      events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      for (const partial_json of ['', ...splitIntoChunks(JSON.stringify(block.input), chunkLength)]) {
        events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } });
      }
    }
    events.push({ type: 'content_block_stop', index });
  });
  events.push({
    type: 'message_delta',
    delta: {
      stop_reason: message.stop_reason,
      stop_sequence: message.stop_sequence,
      stop_details: null,
      container: null,
    },
    usage: {
      input_tokens: message.usage.input_tokens,
      output_tokens: message.usage.output_tokens,
      cache_creation_input_tokens: message.usage.cache_creation_input_tokens,
      cache_read_input_tokens: message.usage.cache_read_input_tokens,
      output_tokens_details: null,
      server_tool_use: null,
    },
  });
  events.push({ type: 'message_stop' });
  return events;
}

/** Formats one event as a Server-Sent Events frame, `event: <type>` then `data: <json>` and a blank line. */
export function formatServerSentEvent(event: { type: string }): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** Validates the minimum of a POST /v1/messages body (model, max_tokens, messages) and names the first bad field. */
export function parseMessagesRequest(body: unknown): ParsedMessagesRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'body: Input should be a JSON object' };
  }
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || fields.model === '') {
    return { ok: false, message: 'model: Field required (a non-empty string)' };
  }
  if (typeof fields.max_tokens !== 'number' || !Number.isInteger(fields.max_tokens) || fields.max_tokens < 1) {
    return { ok: false, message: 'max_tokens: Field required (an integer of at least 1)' };
  }
  if (!Array.isArray(fields.messages) || fields.messages.length === 0) {
    return { ok: false, message: 'messages: Field required (a non-empty array)' };
  }
  const messages = fields.messages as unknown[];
  for (const [index, message] of messages.entries()) {
    const entry = (typeof message === 'object' && message !== null ? message : {}) as Record<string, unknown>;
    if (entry.role !== 'user' && entry.role !== 'assistant' && entry.role !== 'system') {
      return { ok: false, message: `messages.${index}.role: Input should be 'user', 'assistant' or 'system'` };
    }
    if (typeof entry.content !== 'string' && !Array.isArray(entry.content)) {
      return { ok: false, message: `messages.${index}.content: Input should be a string or an array of blocks` };
    }
    if (entry.role === 'system') {
      if (!acceptsMidConversationSystem(fields.model)) {
        return { ok: false, message: `messages.${index}.role: role 'system' is not supported on this model` };
      }
      const before = messages[index - 1] as { role?: unknown } | undefined;
      if (before?.role !== 'user') {
        return { ok: false, message: `messages.${index}: a system message must immediately follow a user message` };
      }
    }
    const problem = Array.isArray(entry.content) ? mediaProblem(entry.content as unknown[]) : null;
    if (problem !== null) return { ok: false, message: `messages.${index}.content.${problem}` };
  }
  if (fields.tools !== undefined && !Array.isArray(fields.tools)) {
    return { ok: false, message: 'tools: Input should be an array' };
  }
  return { ok: true, request: fields as MessagesRequest };
}

/**
 * The first image or document block of `blocks` the API would refuse, as `<index>.<field>: <reason>`: a `file` source
 * names a Files API upload, which this endpoint has never seen, and a base64 image must be one of the four types.
 */
function mediaProblem(blocks: unknown[]): string | null {
  for (const [index, block] of blocks.entries()) {
    const entry = (typeof block === 'object' && block !== null ? block : {}) as Record<string, unknown>;
    if (entry.type !== 'image' && entry.type !== 'document') continue;
    const source = (typeof entry.source === 'object' && entry.source !== null ? entry.source : {}) as Record<
      string,
      unknown
    >;
    if (source.type === 'file') return `${index}.source.file_id: File '${String(source.file_id)}' not found`;
    if (source.type === 'base64' && typeof source.data !== 'string') {
      return `${index}.source.data: Field required`;
    }
    if (entry.type === 'image' && source.type === 'base64') {
      const types = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
      if (!types.includes(String(source.media_type))) {
        return `${index}.source.media_type: Input should be ${types.map((type) => `'${type}'`).join(', ')}`;
      }
    }
  }
  return null;
}

/** Returns the content blocks of the last user turn, a string content read as one text block. */
export function lastUserBlocks(request: MessagesRequest): Array<Record<string, unknown>> {
  const lastUser = request.messages.findLast((message) => message.role === 'user');
  if (!lastUser) return [];
  return typeof lastUser.content === 'string' ? [{ type: 'text', text: lastUser.content }] : lastUser.content;
}

/** Returns the text of the last user turn, its text blocks joined by newlines. */
export function lastUserText(request: MessagesRequest): string {
  return lastUserBlocks(request)
    .filter((block) => block.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text as string)
    .join('\n');
}
