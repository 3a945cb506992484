import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Interface } from 'node:readline';
import type { KeelClient, StreamItem } from '../client';
import type { SessionEvent } from '../common/events';
import { describeEvent, toolInput } from './describe-event';
import type { DescribeOptions } from './describe-event';
import { followSession } from './follow-session';

/** What `keel chat` starts from: a new session (of `agentId`, or the server's default agent) or `sessionId`. */
export interface ChatOptions {
  agentId?: string;
  sessionId?: string;
}

/** The terminal `keel chat` talks through: process.stdin and process.stdout, or a test's streams. */
export interface ChatTerminal {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Whether `input` is a terminal (raw keys, Ctrl-C as a key); otherwise Ctrl-C arrives as SIGINT. */
  terminal: boolean;
}

/** How many events of the history `keel chat --session` prints before it follows the session live. */
const HISTORY_SHOWN = 30;

/** How long leaving waits for requests still in flight (an interrupt sent just before). */
const EXIT_WAIT_MS = 5_000;

/** How a terminal conversation prints events: short tool inputs, folded results. */
const LIVE: DescribeOptions = { foldResultLines: 8, inputChars: 160 };

type ToolCall = Extract<SessionEvent, { type: 'agent.tool_use' | 'agent.mcp_tool_use' | 'agent.custom_tool_use' }>;

/** Where the conversation is: waiting for the user's message, in a turn, or asking about a held tool call. */
type Mode = 'starting' | 'idle' | 'running' | 'asking';

/**
 * `keel chat`: an interactive session in the terminal. It streams the agent's text and tool calls, asks y/n (and an
 * optional reason for a no) for each tool call the session holds for confirmation, interrupts the turn on Ctrl-C and
 * exits on a second Ctrl-C, on Ctrl-C or Ctrl-D at an empty prompt. Resolves with the exit code.
 */
export async function chat(client: KeelClient, options: ChatOptions, terminal: ChatTerminal): Promise<number> {
  const session =
    options.sessionId === undefined
      ? await client.createSession(options.agentId === undefined ? {} : { agent: options.agentId })
      : await client.getSession(options.sessionId);
  const conversation = new Conversation(client, session.id, session.stats.event_count - 1, terminal);
  const write = (text: string): void => void terminal.output.write(text);
  if (options.sessionId === undefined)
    write(`session ${session.id}: Ctrl-C interrupts a turn, twice (or Ctrl-D) exits\n`);
  else {
    const count = session.stats.event_count;
    const shown = count > HISTORY_SHOWN ? ` (the last ${HISTORY_SHOWN} shown)` : '';
    write(`session ${session.id}: ${session.status}, ${count} events${shown}\n`);
  }
  return conversation.run();
}

/** One `keel chat` conversation: the event stream in, the readline prompt out, and the state between them. */
class Conversation {
  private mode: Mode = 'starting';
  private readonly streamed = new Map<string, string>();
  private readonly toolCalls = new Map<string, ToolCall>();
  private readonly answered = new Set<string>();
  /** Held tool calls still to ask about, in order; the first is the one asked. */
  private questions: string[] = [];
  private denying = false;
  private interruptSent = false;
  private readonly controller = new AbortController();
  private readonly readline: Interface;
  private finish: (code: number) => void = () => undefined;
  private done = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly client: KeelClient,
    private readonly sessionId: string,
    /** The position of the last event logged before the conversation opened (-1 for a new session). */
    private readonly historyEnd: number,
    private readonly terminal: ChatTerminal,
  ) {
    this.readline = createInterface({ input: terminal.input, output: terminal.output, terminal: terminal.terminal });
  }

  /** Follows the session and talks with the user until they leave; resolves with the exit code. */
  run(): Promise<number> {
    const exited = new Promise<number>((resolve) => (this.finish = resolve));
    const onSignal = (): void => this.onCtrlC();
    this.readline.on('line', (line) => this.onLine(line));
    this.readline.on('SIGINT', onSignal);
    this.readline.on('close', () => this.exit(0));
    if (!this.terminal.terminal) process.on('SIGINT', onSignal);
    if (this.historyEnd < 0) this.becomeIdle();
    this.follow().then(
      () => this.exit(0),
      (error: unknown) => {
        this.write(`keel: ${error instanceof Error ? error.message : String(error)}\n`);
        this.exit(1);
      },
    );
    return exited.finally(() => process.off('SIGINT', onSignal));
  }

  private async follow(): Promise<void> {
    const items = followSession(this.client, this.sessionId, {
      textDeltas: true,
      signal: this.controller.signal,
      onReconnect: () => this.write('\n[connection lost: reconnecting]\n'),
      onReconnected: () => this.write('[reconnected]\n'),
    });
    for await (const item of items) this.onItem(item);
  }

  private onItem(item: StreamItem): void {
    if (item.kind === 'text_delta') {
      this.streamed.set(item.eventId, (this.streamed.get(item.eventId) ?? '') + item.text);
      this.write(item.text);
      return;
    }
    const { event, position } = item;
    const history = position <= this.historyEnd;
    // A held call prints as its question, not as `[idle: requires_action]`.
    const asks = event.type === 'session.status_idle' && event.stop_reason.type === 'requires_action';
    if (!asks && (!history || position > this.historyEnd - HISTORY_SHOWN)) {
      const text = describeEvent(event, this.streamed, history ? { ...LIVE, userMessages: true } : LIVE);
      if (text !== null) this.write(text);
    }
    this.track(event, !history);
    if (position === this.historyEnd) {
      if (this.mode === 'idle' || this.mode === 'starting') this.becomeIdle();
      else if (this.mode === 'asking') this.ask();
      else this.write('[the agent is working]\n');
    }
  }

  /** Moves the conversation along with a logged event; `live` once the history is read, when prompts may show. */
  private track(event: SessionEvent, live: boolean): void {
    switch (event.type) {
      case 'agent.tool_use':
      case 'agent.mcp_tool_use':
      case 'agent.custom_tool_use':
        this.toolCalls.set(event.id, event);
        return;
      case 'user.tool_confirmation':
        this.answered.add(event.tool_use_id);
        return;
      case 'user.custom_tool_result':
        this.answered.add(event.custom_tool_use_id);
        return;
      case 'session.status_running':
        if (this.mode !== 'asking') this.mode = 'running';
        return;
      case 'session.status_terminated':
        this.exit(0, false);
        return;
      case 'session.status_idle':
        if (event.stop_reason.type === 'requires_action') {
          const asked = new Set(this.questions);
          const fresh = event.stop_reason.event_ids.filter((id) => !this.answered.has(id) && !asked.has(id));
          this.questions.push(...fresh);
          if (this.questions.length === 0) return;
          const wasAsking = this.mode === 'asking';
          this.mode = 'asking';
          if (live && !wasAsking) this.ask();
          return;
        }
        if (this.interruptSent) this.write('[turn interrupted]\n');
        this.interruptSent = false;
        this.questions = [];
        this.mode = 'idle';
        if (live) this.becomeIdle();
        return;
      default:
        return;
    }
  }

  private becomeIdle(): void {
    this.mode = 'idle';
    this.readline.setPrompt('> ');
    this.readline.prompt();
  }

  /** Asks about the first held tool call: allow or deny for a tool, the result text for a custom tool. */
  private ask(): void {
    const id = this.questions[0];
    if (id === undefined) {
      this.mode = 'running';
      return;
    }
    const call = this.toolCalls.get(id);
    const described = call === undefined ? id : `${call.name} ${toolInput(call.input, LIVE.inputChars)}`;
    if (call?.type === 'agent.custom_tool_use') this.readline.setPrompt(`result of ${described}: `);
    else this.readline.setPrompt(this.denying ? 'reason (optional): ' : `allow ${described}? [y/N] `);
    this.readline.prompt();
  }

  private onLine(line: string): void {
    const text = line.trim();
    switch (this.mode) {
      case 'idle':
        if (text === '') return this.readline.prompt();
        this.mode = 'running';
        this.send(this.client.sendMessage(this.sessionId, text), () => this.becomeIdle());
        return;
      case 'asking':
        return this.answer(text);
      default:
        this.write('(the agent is working: wait for the prompt, or Ctrl-C to interrupt)\n');
        return;
    }
  }

  /** Sends the user's answer about the first held tool call, then asks about the next one. */
  private answer(text: string): void {
    const id = this.questions[0];
    if (id === undefined) return;
    const call = this.toolCalls.get(id);
    if (call?.type === 'agent.custom_tool_use') {
      this.send(this.client.sendCustomToolResult(this.sessionId, id, text));
    } else if (!this.denying && /^y(es)?$/i.test(text)) {
      this.send(this.client.confirmToolUse(this.sessionId, id, 'allow'));
    } else if (!this.denying) {
      this.denying = true;
      return this.ask();
    } else {
      this.denying = false;
      this.send(this.client.confirmToolUse(this.sessionId, id, 'deny', text === '' ? undefined : text));
    }
    this.answered.add(id);
    this.questions.shift();
    this.ask();
  }

  private onCtrlC(): void {
    if (this.mode === 'idle' && this.readline.line !== '') {
      // Ctrl-C on a half-typed line drops the line, as a shell does.
      this.write('^C\n');
      this.readline.write(null, { ctrl: true, name: 'e' });
      this.readline.write(null, { ctrl: true, name: 'u' });
      return this.readline.prompt();
    }
    if (this.mode === 'idle' || this.mode === 'starting' || this.interruptSent) return this.exit(0);
    this.interruptSent = true;
    this.questions = [];
    this.denying = false;
    this.mode = 'running';
    this.write('^C\n[interrupting the turn: Ctrl-C again to leave]\n');
    this.send(this.client.interrupt(this.sessionId));
  }

  /** Runs a request to the API; a failure is printed, and `onFailure` puts the conversation back. */
  private send(request: Promise<unknown>, onFailure?: () => void): void {
    const settled = request.then(
      () => undefined,
      (error: unknown) => {
        this.write(`[failed: ${error instanceof Error ? error.message : String(error)}]\n`);
        onFailure?.();
      },
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  /** Leaves the conversation with `code`; the session stays (`continues`) unless it terminated. */
  private exit(code: number, continues = true): void {
    if (this.done) return;
    this.done = true;
    this.controller.abort();
    if (continues)
      this.write(`\nsession ${this.sessionId} stays; continue it with: keel chat --session ${this.sessionId}\n`);
    this.readline.close();
    // The process exits when this resolves: let a request just sent (the interrupt of a double Ctrl-C) reach the API.
    const sent = Promise.allSettled([...this.inFlight]);
    void Promise.race([sent, sleep(EXIT_WAIT_MS, undefined, { ref: false })]).then(() => this.finish(code));
  }

  private write(text: string): void {
    this.terminal.output.write(text);
  }
}
