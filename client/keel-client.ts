import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { EventSourceMessage } from 'eventsource-parser';
import type { SessionEvent } from '../common/events';
import type { SessionStatsView, SessionUsageView } from '../common/session';
import { KeelApiError } from './keel-api-error';
import type { StreamItem } from './stream-items';

/** Where the client finds Keel's HTTP API. */
export interface KeelClientOptions {
  baseUrl: string;
  apiKey: string;
}

/** The session object the API returns (the fields the client reads). */
export interface Session {
  id: string;
  type: 'session';
  status: 'idle' | 'running' | 'rescheduling' | 'terminated';
  title: string | null;
  metadata: Record<string, string>;
  created_at: string;
  usage: SessionUsageView;
  stats: SessionStatsView;
}

/** Options of `events`. */
export interface EventsOptions {
  /** Yield events at positions after this one (-1, the default, for all). */
  after?: number;
  /** Also yield live text deltas of `agent.message`. */
  textDeltas?: boolean;
  signal?: AbortSignal;
}

/**
 * The TypeScript client of Keel's HTTP API: start and drive sessions, and follow their events live. Every error is a
 * `KeelApiError` that names what is wrong; the client validates nothing the server does not also check.
 */
export class KeelClient {
  private readonly baseUrl: string;

  constructor(private readonly options: KeelClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /**
   * Creates a session; it starts idle. `agent` is the id of the agent it runs (its latest version); without it, the
   * server's default agent runs.
   */
  createSession(
    request: { title?: string | null; metadata?: Record<string, string>; agent?: string } = {},
  ): Promise<Session> {
    return this.request('POST', '/v1/sessions', request);
  }

  /** Returns a session with its status and usage. */
  getSession(sessionId: string): Promise<Session> {
    return this.request('GET', `/v1/sessions/${encodeURIComponent(sessionId)}`);
  }

  /** Lists sessions, newest first. */
  async listSessions(limit = 20): Promise<Session[]> {
    const page = await this.request<{ data: Session[] }>('GET', `/v1/sessions?limit=${limit}`);
    return page.data;
  }

  /** Sends a `user.message`; returns it as logged, with its event id. */
  async sendMessage(sessionId: string, text: string): Promise<SessionEvent> {
    return this.sendEvent(sessionId, { type: 'user.message', content: [{ type: 'text', text }] });
  }

  /** Sends a `user.interrupt`: the running model call or tool stops and the session goes idle. */
  interrupt(sessionId: string): Promise<SessionEvent> {
    return this.sendEvent(sessionId, { type: 'user.interrupt' });
  }

  /**
   * Answers a tool call the session holds for confirmation (`requires_action`): `allow` runs it, `deny` gives the
   * model an error result with `denyMessage`. `toolUseId` is the `agent.tool_use` or `agent.mcp_tool_use` event id.
   */
  confirmToolUse(
    sessionId: string,
    toolUseId: string,
    result: 'allow' | 'deny',
    denyMessage?: string,
  ): Promise<SessionEvent> {
    return this.sendEvent(sessionId, {
      type: 'user.tool_confirmation',
      tool_use_id: toolUseId,
      result,
      ...(denyMessage === undefined ? {} : { deny_message: denyMessage }),
    });
  }

  /** Sends the result of a custom tool call (`agent.custom_tool_use` event id) the session waits for. */
  sendCustomToolResult(
    sessionId: string,
    customToolUseId: string,
    text: string,
    options: { isError?: boolean } = {},
  ): Promise<SessionEvent> {
    return this.sendEvent(sessionId, {
      type: 'user.custom_tool_result',
      custom_tool_use_id: customToolUseId,
      content: [{ type: 'text', text }],
      is_error: options.isError ?? false,
    });
  }

  /** Ends a session: its Workflow completes and its sandbox and workspace volume are removed. */
  async endSession(sessionId: string): Promise<void> {
    await this.request('DELETE', `/v1/sessions/${encodeURIComponent(sessionId)}`);
  }

  /** Lists a page of the session's events in log order. */
  async listEvents(
    sessionId: string,
    options: { limit?: number; page?: string } = {},
  ): Promise<{ data: SessionEvent[]; next_page: string | null }> {
    const query = new URLSearchParams({
      limit: String(options.limit ?? 100),
      ...(options.page ? { page: options.page } : {}),
    });
    return this.request('GET', `/v1/sessions/${encodeURIComponent(sessionId)}/events?${query.toString()}`);
  }

  /**
   * Opens the session's event stream and resolves once the server follows the session for this client, so nothing
   * produced after this call resolves (text deltas included) is missed. The stream yields the events after `after`,
   * catching up from the log and then following live, each exactly once and in order (positions are checked); it
   * ends when the session terminates or `signal` aborts.
   */
  async openEvents(sessionId: string, options: EventsOptions = {}): Promise<AsyncGenerator<StreamItem>> {
    const query = options.textDeltas ? '?event_deltas=agent.message' : '';
    const response = await fetch(`${this.baseUrl}/v1/sessions/${encodeURIComponent(sessionId)}/events/stream${query}`, {
      headers: { ...this.headers(), accept: 'text/event-stream', 'last-event-id': String(options.after ?? -1) },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.ok || response.body === null) throw await KeelApiError.fromResponse(response);
    // Lock the body now, not when iteration starts: undici cancels the body of a garbage-collected Response unless the
    // body is locked or read (nodejs/undici#3199), and a caller may open many streams before it reads any. A cancelled
    // body ends like a finished one, so such a stream would end quietly with events missing.
    const messages = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
    return readStream(messages, options.after ?? -1, options.signal);
  }

  /** Like `openEvents`, as one async iterator that opens the stream when iteration starts. */
  async *events(sessionId: string, options: EventsOptions = {}): AsyncGenerator<StreamItem> {
    yield* await this.openEvents(sessionId, options);
  }

  /**
   * Waits until the session is idle after the event `eventId` (the message just sent): returns the idle (or
   * terminated) event that ended its turn, with every event seen on the way.
   */
  async waitForIdle(
    sessionId: string,
    eventId: string,
    options: { after?: number; onItem?: (item: StreamItem) => void; textDeltas?: boolean; signal?: AbortSignal } = {},
  ): Promise<SessionEvent> {
    const stream = this.events(sessionId, {
      after: options.after ?? -1,
      textDeltas: options.textDeltas ?? false,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return untilIdle(stream, eventId, options.onItem);
  }

  private async sendEvent(sessionId: string, event: Record<string, unknown>): Promise<SessionEvent> {
    const body = await this.request<{ data: SessionEvent[] }>(
      'POST',
      `/v1/sessions/${encodeURIComponent(sessionId)}/events`,
      { events: [event] },
    );
    const sent = body.data[0];
    if (sent === undefined) throw new Error('The server answered no event.');
    return sent;
  }

  private headers(): Record<string, string> {
    return { 'x-api-key': this.options.apiKey };
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...this.headers(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw await KeelApiError.fromResponse(response);
    return (await response.json()) as T;
  }
}

/**
 * Consumes `items` until the session is idle (or terminated) after the event `eventId`, and returns that event;
 * `onItem` sees every item on the way.
 */
export async function untilIdle(
  items: AsyncIterable<StreamItem>,
  eventId: string,
  onItem?: (item: StreamItem) => void,
): Promise<SessionEvent> {
  let seen = false;
  for await (const item of items) {
    onItem?.(item);
    if (item.kind !== 'event') continue;
    if (item.event.id === eventId) seen = true;
    if (seen && (item.event.type === 'session.status_idle' || item.event.type === 'session.status_terminated')) {
      return item.event;
    }
  }
  throw new Error('The event stream ended before the session was idle.');
}

/** Parses an SSE body into stream items, checking that positions follow each other without a gap. */
async function* readStream(
  messages: ReadableStream<EventSourceMessage>,
  after: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<StreamItem> {
  let last = after;
  try {
    for await (const message of messages) {
      const data = JSON.parse(message.data) as Record<string, unknown>;
      if (message.event === 'error') {
        const error = data['error'] as { type?: string; message?: string } | undefined;
        throw new KeelApiError(500, error?.type ?? 'api_error', error?.message ?? 'stream failed', null);
      }
      if (message.event === 'event_delta') {
        const delta = data as { event_id: string; delta: { content: { text: string } } };
        yield { kind: 'text_delta', eventId: delta.event_id, text: delta.delta.content.text };
        continue;
      }
      if (message.event === 'event_start') continue;
      const position = Number(message.id);
      if (position !== last + 1)
        throw new Error(`event stream out of order: expected position ${last + 1}, got ${message.id}`);
      last = position;
      yield { kind: 'event', position, event: data as unknown as SessionEvent };
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
}
