import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  receiveMessagesRequest,
  sendErrorResponse,
  sendMessageResponse,
  startEventStream,
  startJsonResponse,
} from '../cli/demo-model/demo-model-server';
import {
  buildMessage,
  formatServerSentEvent,
  lastUserText,
  messageToStreamEvents,
} from '../cli/demo-model/messages-wire';
import type { MessagesRequest, ReplyBlock } from '../cli/demo-model/messages-wire';
import { estimatePromptTokens, promptBlocks } from '../cli/demo-model/prompt-blocks';
import type { PromptBlock } from '../cli/demo-model/prompt-blocks';
import { accountPromptCache, breakpointLimitError } from './support/prompt-cache-accounting';
import type { PromptCacheUsage } from './support/prompt-cache-accounting';
import { droppedThinkingError } from './support/thinking-continuity';

/**
 * One scripted answer of the fake model; text ends the turn, tool uses stop with `tool_use`, `hang` never finishes.
 * `thinking` opens the response with a signed thinking block, as a model with extended thinking on answers.
 */
export type ScriptedReply =
  | { kind: 'text'; text: string; thinking?: string; delayMs?: number }
  | {
      kind: 'tool_use';
      name: string;
      input: Record<string, unknown>;
      text?: string;
      thinking?: string;
      id?: string;
      delayMs?: number;
    }
  | {
      kind: 'tool_uses';
      calls: Array<{ name: string; input: Record<string, unknown> }>;
      text?: string;
      thinking?: string;
    }
  | { kind: 'error'; status: number; message?: string; retryAfterSeconds?: number }
  | { kind: 'hang' };

/** A request the fake model received, kept so tests can assert on what the caller sent. */
export interface RecordedRequest {
  body: MessagesRequest;
  receivedAt: number;
  /** The request's headers (the trace context the caller propagated among them). */
  headers: IncomingHttpHeaders;
  /** The input token estimate of the whole prompt (`estimateInputTokens`), cached parts included. */
  inputTokens: number;
  /** The 400 message the request was refused with (too many breakpoints, dropped thinking, too long); no reply was used. */
  refusal?: string;
  /** The usage reported for the request, set once it is answered with a model response. */
  usage?: PromptCacheUsage;
}

/** Options of `ScriptedModelServer.start`; `respond` answers once the FIFO queue is empty. */
export interface ScriptedModelServerOptions {
  respond?: (request: RecordedRequest) => ScriptedReply | undefined;
  /** The model's context window: a prompt estimated above it is refused with the API's "prompt is too long" 400. */
  contextWindowTokens?: number;
}

/** Token counts summed over every request answered with a model response, split as the API's usage splits them. */
export interface PromptCacheTotals {
  inputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

const heartbeatIntervalMs = 100;

/**
 * Keeps a response open, sending heartbeats (SSE pings, or spaces that JSON parsing ignores) until the time passes or
 * the client leaves. A heartbeat is how the server notices an aborted request: Node's fetch only drops the socket when
 * more bytes arrive on it.
 */
function holdOpen(response: ServerResponse, stream: boolean, milliseconds?: number): Promise<void> {
  if (!response.headersSent) (stream ? startEventStream : startJsonResponse)(response);
  return new Promise((resolve) => {
    const finish = (): void => {
      clearInterval(heartbeat);
      clearTimeout(deadline);
      response.off('close', finish);
      resolve();
    };
    const heartbeat = setInterval(
      () => response.write(stream ? formatServerSentEvent({ type: 'ping' }) : ' '),
      heartbeatIntervalMs,
    );
    const deadline = milliseconds === undefined ? undefined : setTimeout(finish, milliseconds);
    if (response.destroyed) finish();
    else response.once('close', finish);
  });
}

function replyBlocks(reply: ScriptedReply): ReplyBlock[] {
  const thinking: ReplyBlock[] =
    'thinking' in reply && reply.thinking !== undefined ? [{ type: 'thinking', thinking: reply.thinking }] : [];
  const text: ReplyBlock[] = 'text' in reply && reply.text ? [{ type: 'text', text: reply.text }] : [];
  if (reply.kind === 'tool_use')
    return [...thinking, ...text, { type: 'tool_use', id: reply.id, name: reply.name, input: reply.input }];
  if (reply.kind === 'tool_uses')
    return [...thinking, ...text, ...reply.calls.map((call) => ({ type: 'tool_use' as const, ...call }))];
  return [...thinking, ...text];
}

/**
 * A loopback Messages API fake that answers from a script and fails loudly, at request and at close, when it runs out.
 * Like the API it refuses a prompt over its context window, accounts prompt caching in its usage, and refuses a
 * tool-use loop that dropped its thinking block; a refused request is recorded but uses no scripted reply.
 */
export class ScriptedModelServer {
  /** Every valid request received, in arrival order, refused ones included. */
  readonly requests: RecordedRequest[] = [];
  /** The requests refused because their prompt was over the context window, in arrival order. */
  readonly refusedForContextWindow: RecordedRequest[] = [];
  private readonly queue: ScriptedReply[] = [];
  private readonly pending = new Set<ServerResponse>();
  private failure: Error | undefined;
  private contextWindowTokens: number | undefined;
  private largestAnsweredPrompt = 0;
  private readonly totals: PromptCacheTotals = { inputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
  /** Prefix hash → token count of every prefix written to the prompt cache; entries never expire. */
  private readonly cachedPrefixes = new Map<string, number>();
  private readonly toolUseIdsSentWithThinking = new Set<string>();

  private constructor(
    private readonly server: Server,
    /** The base URL without `/v1`, as the SDK's `baseURL` takes it. */
    readonly baseUrl: string,
    private readonly respond: ScriptedModelServerOptions['respond'],
  ) {}

  /** Starts a server on an ephemeral loopback port and resolves once it listens. */
  static start(options: ScriptedModelServerOptions = {}): Promise<ScriptedModelServer> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        const { port } = server.address() as AddressInfo;
        const scripted = new ScriptedModelServer(server, `http://127.0.0.1:${port}`, options.respond);
        scripted.setContextWindow(options.contextWindowTokens);
        server.on('request', (request: IncomingMessage, response: ServerResponse) => {
          scripted.pending.add(response);
          response.once('close', () => scripted.pending.delete(response));
          scripted.handle(request, response).catch((error: unknown) => {
            scripted.failure ??= error instanceof Error ? error : new Error(String(error));
            if (!response.headersSent) sendErrorResponse(response, 500, `scripted model server: ${String(error)}`);
            else response.destroy();
          });
        });
        resolve(scripted);
      });
    });
  }

  /** Appends replies to the FIFO script; they are used before `respond`. */
  enqueue(...replies: ScriptedReply[]): void {
    this.queue.push(...replies);
  }

  /** Returns how many queued replies are still unused. */
  remaining(): number {
    return this.queue.length;
  }

  /** Sets the context window in tokens, or removes it with undefined; later requests are checked against it. */
  setContextWindow(tokens: number | undefined): void {
    if (tokens !== undefined && !(Number.isInteger(tokens) && tokens > 0)) {
      throw new RangeError(`contextWindowTokens must be a positive integer, got ${tokens}`);
    }
    this.contextWindowTokens = tokens;
  }

  /** The largest input token estimate of any request answered with a model response (0 before the first). */
  get maxInputTokensSeen(): number {
    return this.largestAnsweredPrompt;
  }

  /** Returns the usage token counts summed over every request answered with a model response. */
  cacheTotals(): PromptCacheTotals {
    return { ...this.totals };
  }

  /** Forgets every cached prefix, as if the cache entries had expired; later requests write them again. */
  clearPromptCache(): void {
    this.cachedPrefixes.clear();
  }

  /** Returns how many requests are still being answered, so tests can check that aborted requests were cleaned up. */
  pendingResponses(): number {
    return this.pending.size;
  }

  /** Stops the server, ends open connections at once, and rejects if the script ran out or a reply failed. */
  async close(): Promise<void> {
    const responsesClosed = [...this.pending].map(
      (response) => new Promise((resolve) => response.once('close', resolve)),
    );
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await Promise.all(responsesClosed);
    if (this.failure) throw this.failure;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await receiveMessagesRequest(request, response);
    if (!body) return;
    const blocks = promptBlocks(body);
    const recorded: RecordedRequest = {
      body,
      receivedAt: Date.now(),
      headers: request.headers,
      inputTokens: estimatePromptTokens(blocks),
    };
    this.requests.push(recorded);
    const refusal = this.refusalFor(recorded, blocks);
    if (refusal !== undefined) {
      recorded.refusal = refusal;
      sendErrorResponse(response, 400, refusal);
      return;
    }
    const reply = this.queue.shift() ?? this.respond?.(recorded);
    if (!reply) {
      const lastText = lastUserText(body).slice(0, 200);
      const message = `scripted model server: script ran out at request #${this.requests.length} (last user text: ${JSON.stringify(lastText)})`;
      this.failure ??= new Error(message);
      sendErrorResponse(response, 500, message);
      return;
    }
    await this.answer(reply, recorded, blocks, response);
  }

  // Checks the request as the API would before the model sees it: the request's shape first, then its length.
  private refusalFor(recorded: RecordedRequest, blocks: PromptBlock[]): string | undefined {
    const invalid =
      breakpointLimitError(blocks) ?? droppedThinkingError(recorded.body, this.toolUseIdsSentWithThinking);
    if (invalid !== undefined) return invalid;
    const window = this.contextWindowTokens;
    if (window === undefined || recorded.inputTokens <= window) return undefined;
    this.refusedForContextWindow.push(recorded);
    return `prompt is too long: ${recorded.inputTokens} tokens > ${window} maximum`;
  }

  // Accounts a request that the model answers: its prompt-cache usage, the cache writes, the totals and the largest prompt.
  private account(recorded: RecordedRequest, blocks: PromptBlock[]): PromptCacheUsage {
    const { usage, writes } = accountPromptCache(blocks, this.cachedPrefixes);
    for (const write of writes) this.cachedPrefixes.set(write.hash, write.tokens);
    this.totals.inputTokens += usage.inputTokens;
    this.totals.cacheReadInputTokens += usage.cacheReadInputTokens;
    this.totals.cacheCreationInputTokens += usage.cacheCreationInputTokens;
    this.largestAnsweredPrompt = Math.max(this.largestAnsweredPrompt, recorded.inputTokens);
    recorded.usage = usage;
    return usage;
  }

  private async answer(
    reply: ScriptedReply,
    recorded: RecordedRequest,
    blocks: PromptBlock[],
    response: ServerResponse,
  ): Promise<void> {
    const body = recorded.body;
    const stream = body.stream === true;
    if (reply.kind === 'error') {
      const headers: Record<string, string> =
        reply.retryAfterSeconds === undefined ? {} : { 'retry-after': String(reply.retryAfterSeconds) };
      sendErrorResponse(response, reply.status, reply.message ?? `scripted ${reply.status} error`, headers);
      return;
    }
    if (reply.kind === 'hang') {
      const { inputTokens, ...cache } = this.account(recorded, blocks);
      if (stream) {
        const message = buildMessage({ model: body.model, blocks: [], stopReason: 'end_turn', inputTokens, cache });
        const [start] = messageToStreamEvents(message);
        startEventStream(response);
        if (start) response.write(formatServerSentEvent(start));
      }
      await holdOpen(response, stream);
      return;
    }
    const delayMs = 'delayMs' in reply ? (reply.delayMs ?? 0) : 0;
    if (delayMs > 0) await holdOpen(response, stream, delayMs);
    if (response.destroyed) return;
    const { inputTokens, ...cache } = this.account(recorded, blocks);
    const stopReason = reply.kind === 'text' ? 'end_turn' : 'tool_use';
    const message = buildMessage({ model: body.model, blocks: replyBlocks(reply), stopReason, inputTokens, cache });
    if (reply.thinking !== undefined) {
      for (const block of message.content) if (block.type === 'tool_use') this.toolUseIdsSentWithThinking.add(block.id);
    }
    await sendMessageResponse(response, message, { stream });
  }
}
