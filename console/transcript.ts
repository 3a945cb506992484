/**
 * The console's transcript of one session: a pure reducer from the API's events (listed and streamed) and the
 * stream's `event_start` / `event_delta` previews to the items the page shows. Events are de-duplicated by id, so
 * the history page and the live stream may overlap; a delta's preview is replaced by the buffered event that follows.
 */

/** One event or preview as the API sends it, read loosely: the page shows what it knows and skips the rest. */
export interface StreamedItem {
  type: string;
  id?: string;
  event_id?: string;
  [field: string]: unknown;
}

/** What the transcript shows, in order. */
export type TranscriptItem =
  | { kind: 'user'; id: string; text: string }
  | { kind: 'agent'; id: string; text: string; streaming: boolean }
  | { kind: 'thinking'; id: string; text: string }
  | {
      kind: 'tool';
      id: string;
      name: string;
      input: unknown;
      /** A custom tool (`agent.custom_tool_use`): the user, not the sandbox, sends its result. */
      custom?: boolean;
      result?: string;
      isError?: boolean;
      answer?: string;
    }
  | { kind: 'status'; id: string; text: string }
  | { kind: 'error'; id: string; text: string };

/** The transcript and what it needs to apply the next item. */
export interface TranscriptState {
  items: TranscriptItem[];
  /** Ids of logged events already applied (previews are not in it). */
  seen: ReadonlySet<string>;
  /** The session's status as the events tell it. */
  status: string | undefined;
  /** Tool calls waiting for the user: an allow or deny, or a custom tool's result (from the last `requires_action` idle). */
  awaitingConfirmation: readonly string[];
}

/** A transcript with nothing in it. */
export const EMPTY_TRANSCRIPT: TranscriptState = {
  items: [],
  seen: new Set(),
  status: undefined,
  awaitingConfirmation: [],
};

/**
 * What the page itself tells the reducer: `console.reconnected` when the stream is opened again after a drop, which
 * drops the unfinished previews (their deltas may have a gap; the buffered events that follow carry the whole text).
 */
export const RECONNECTED: StreamedItem = { type: 'console.reconnected' };

/** Applies one listed or streamed item; a duplicate (by id) leaves the state as it was. */
export function applyItem(state: TranscriptState, item: StreamedItem): TranscriptState {
  if (item.type === 'event_start') return state;
  if (item.type === RECONNECTED.type) {
    return { ...state, items: state.items.filter((existing) => existing.kind !== 'agent' || !existing.streaming) };
  }
  if (item.type === 'event_delta') return applyDelta(state, item);
  const id = item.id;
  if (id === undefined || state.seen.has(id)) return state;
  const next: TranscriptState = { ...state, seen: new Set([...state.seen, id]) };
  switch (item.type) {
    case 'user.message':
      return withItem(next, { kind: 'user', id, text: textOf(item.content) });
    case 'agent.message':
      // The buffered event carries the whole text: it replaces the streamed preview of the same id.
      return withItem(next, { kind: 'agent', id, text: textOf(item.content), streaming: false });
    case 'agent.thinking':
      return withItem(next, { kind: 'thinking', id, text: textOf(item.content) || '(thinking)' });
    case 'agent.tool_use':
    case 'agent.mcp_tool_use':
      return withItem(next, { kind: 'tool', id, name: stringField(item, 'name') || 'tool', input: item.input });
    case 'agent.custom_tool_use':
      return withItem(next, {
        kind: 'tool',
        id,
        name: stringField(item, 'name') || 'tool',
        input: item.input,
        custom: true,
      });
    case 'agent.tool_result':
    case 'agent.mcp_tool_result':
      return withToolResult(next, stringField(item, 'tool_use_id') || stringField(item, 'mcp_tool_use_id'), item);
    case 'user.custom_tool_result':
      return withAnswered(withToolResult(next, stringField(item, 'custom_tool_use_id'), item), item);
    case 'user.tool_confirmation':
      return withAnswer(next, stringField(item, 'tool_use_id'), answerText(item));
    case 'session.status_running':
      return withItem(
        { ...next, status: 'running', awaitingConfirmation: [] },
        { kind: 'status', id, text: 'Running' },
      );
    case 'session.status_idle':
      return withIdle(next, id, item);
    case 'session.status_rescheduled':
      return withItem({ ...next, status: 'rescheduling' }, { kind: 'status', id, text: 'Rescheduled (retrying)' });
    case 'session.status_terminated':
      return withItem({ ...next, status: 'terminated' }, { kind: 'status', id, text: 'Terminated' });
    case 'user.interrupt':
      return withItem(next, { kind: 'status', id, text: 'Interrupted by the user' });
    case 'session.error':
      return withItem(next, { kind: 'error', id, text: errorText(item.error) });
    case 'session.thread_created':
      return withItem(next, {
        kind: 'status',
        id,
        text: `Thread ${stringField(item, 'session_thread_id')} started (${stringField(item, 'agent_name')})`,
      });
    case 'agent.thread_message_sent':
      return withItem(next, {
        kind: 'status',
        id,
        text: `To ${stringField(item, 'to_agent_name') || stringField(item, 'to_session_thread_id')}: ${textOf(item.content)}`,
      });
    case 'agent.thread_message_received':
      return withItem(next, {
        kind: 'status',
        id,
        text: `From ${stringField(item, 'from_agent_name') || stringField(item, 'from_session_thread_id')}: ${textOf(item.content)}`,
      });
    default:
      return next;
  }
}

function applyDelta(state: TranscriptState, item: StreamedItem): TranscriptState {
  const eventId = item.event_id;
  if (eventId === undefined || state.seen.has(eventId)) return state;
  const delta = item.delta as { content?: { text?: unknown } } | undefined;
  const text = typeof delta?.content?.text === 'string' ? delta.content.text : '';
  const index = state.items.findIndex((existing) => existing.id === eventId);
  const current = index >= 0 ? state.items[index] : undefined;
  if (current === undefined) {
    return { ...state, items: [...state.items, { kind: 'agent', id: eventId, text, streaming: true }] };
  }
  if (current.kind !== 'agent') return state;
  const items = [...state.items];
  items[index] = { ...current, text: current.text + text };
  return { ...state, items };
}

function withItem(state: TranscriptState, item: TranscriptItem): TranscriptState {
  const index = state.items.findIndex((existing) => existing.id === item.id);
  if (index < 0) return { ...state, items: [...state.items, item] };
  const items = [...state.items];
  items[index] = item;
  return { ...state, items };
}

function withToolResult(state: TranscriptState, toolUseId: string, item: StreamedItem): TranscriptState {
  return mapTool(state, toolUseId, (tool) => ({
    ...tool,
    result: textOf(item.content),
    isError: item.is_error === true,
  }));
}

function withAnswered(state: TranscriptState, item: StreamedItem): TranscriptState {
  const toolUseId = stringField(item, 'custom_tool_use_id');
  return { ...state, awaitingConfirmation: state.awaitingConfirmation.filter((id) => id !== toolUseId) };
}

/** `allow`, `deny`, or `deny (the reason)` when the user gave one. */
function answerText(item: StreamedItem): string {
  const reason = stringField(item, 'deny_message');
  const result = stringField(item, 'result');
  return reason === '' ? result : `${result} (${reason})`;
}

function withAnswer(state: TranscriptState, toolUseId: string, answer: string): TranscriptState {
  const answered = mapTool(state, toolUseId, (tool) => ({ ...tool, answer }));
  return { ...answered, awaitingConfirmation: answered.awaitingConfirmation.filter((id) => id !== toolUseId) };
}

function mapTool(
  state: TranscriptState,
  toolUseId: string,
  change: (tool: Extract<TranscriptItem, { kind: 'tool' }>) => TranscriptItem,
): TranscriptState {
  return {
    ...state,
    items: state.items.map((existing) =>
      existing.kind === 'tool' && existing.id === toolUseId ? change(existing) : existing,
    ),
  };
}

function withIdle(state: TranscriptState, id: string, item: StreamedItem): TranscriptState {
  const stopReason = item.stop_reason as { type?: string; event_ids?: unknown } | null | undefined;
  const reason = stopReason?.type ?? 'end_turn';
  const awaiting =
    reason === 'requires_action' && Array.isArray(stopReason?.event_ids) ? stopReason.event_ids.map(String) : [];
  const text = reason === 'requires_action' ? 'Idle: waiting for your answer' : `Idle (${reason})`;
  return withItem({ ...state, status: 'idle', awaitingConfirmation: awaiting }, { kind: 'status', id, text });
}

/** A string field of an item, or '' when it is absent or not a string. */
function stringField(item: StreamedItem, name: string): string {
  const value = item[name];
  return typeof value === 'string' ? value : '';
}

/** The text of a content array (text blocks joined), or of a plain string. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: unknown) => {
      const typed = block as { type?: string; text?: unknown };
      if (typeof typed.text === 'string') return typed.text;
      return typed.type === undefined ? '' : `[${typed.type}]`;
    })
    .join('');
}

function errorText(error: unknown): string {
  const typed = error as { type?: string; message?: string } | undefined;
  return `Error${typed?.type ? ` (${typed.type})` : ''}: ${typed?.message ?? 'unknown'}`;
}
