import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
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
  estimateInputTokens,
  formatServerSentEvent,
  lastUserText,
  messageToStreamEvents,
} from '../cli/demo-model/messages-wire';
import type { MessagesRequest, ReplyBlock } from '../cli/demo-model/messages-wire';

/** One scripted answer of the fake model; text ends the turn, tool uses stop with `tool_use`, `hang` never finishes. */
export type ScriptedReply =
  | { kind: 'text'; text: string; delayMs?: number }
  | { kind: 'tool_use'; name: string; input: Record<string, unknown>; text?: string; id?: string; delayMs?: number }
  | { kind: 'tool_uses'; calls: Array<{ name: string; input: Record<string, unknown> }>; text?: string }
  | { kind: 'error'; status: number; message?: string; retryAfterSeconds?: number }
  | { kind: 'hang' };

/** A request the fake model received, kept so tests can assert on what the caller sent. */
export interface RecordedRequest {
  body: MessagesRequest;
  receivedAt: number;
}

/** Options of `ScriptedModelServer.start`; `respond` answers once the FIFO queue is empty. */
export interface ScriptedModelServerOptions {
  respond?: (request: RecordedRequest) => ScriptedReply | undefined;
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
  const text: ReplyBlock[] = 'text' in reply && reply.text ? [{ type: 'text', text: reply.text }] : [];
  if (reply.kind === 'tool_use')
    return [...text, { type: 'tool_use', id: reply.id, name: reply.name, input: reply.input }];
  if (reply.kind === 'tool_uses')
    return [...text, ...reply.calls.map((call) => ({ type: 'tool_use' as const, ...call }))];
  return text;
}

/** A loopback Messages API fake that answers from a script and fails loudly, at request and at close, when it runs out. */
export class ScriptedModelServer {
  /** Every valid request received, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  private readonly queue: ScriptedReply[] = [];
  private readonly pending = new Set<ServerResponse>();
  private failure: Error | undefined;

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
    const recorded: RecordedRequest = { body, receivedAt: Date.now() };
    this.requests.push(recorded);
    const reply = this.queue.shift() ?? this.respond?.(recorded);
    if (!reply) {
      const lastText = lastUserText(body).slice(0, 200);
      const message = `scripted model server: script ran out at request #${this.requests.length} (last user text: ${JSON.stringify(lastText)})`;
      this.failure ??= new Error(message);
      sendErrorResponse(response, 500, message);
      return;
    }
    await this.answer(reply, body, response);
  }

  private async answer(reply: ScriptedReply, body: MessagesRequest, response: ServerResponse): Promise<void> {
    const stream = body.stream === true;
    if (reply.kind === 'error') {
      const headers: Record<string, string> =
        reply.retryAfterSeconds === undefined ? {} : { 'retry-after': String(reply.retryAfterSeconds) };
      sendErrorResponse(response, reply.status, reply.message ?? `scripted ${reply.status} error`, headers);
      return;
    }
    const inputTokens = estimateInputTokens(body);
    if (reply.kind === 'hang') {
      if (stream) {
        const message = buildMessage({ model: body.model, blocks: [], stopReason: 'end_turn', inputTokens });
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
    const stopReason = reply.kind === 'text' ? 'end_turn' : 'tool_use';
    const message = buildMessage({ model: body.model, blocks: replyBlocks(reply), stopReason, inputTokens });
    await sendMessageResponse(response, message, { stream });
  }
}
