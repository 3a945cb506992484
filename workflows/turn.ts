import { isCancellation, sleep } from '@temporalio/workflow';
import type { AgentSnapshot } from '../common/agent';
import type { SessionEvent } from '../common/events';
import type { CallModelResult, ContentBlock, MessageParam } from '../common/model';
import type { SandboxEnvironment, SandboxFileMount } from '../common/sandbox';
import type { SessionLimits, SessionUsage } from '../common/session';
import type { SessionStatus } from '../common/events';
import { callModel, execute, provisionSandbox } from './activities';
import { appendAssistantContent, appendUserContent, toolResultBlock } from './conversation';
import type { ToolResultInput } from './conversation';
import type { EventLog } from './event-log';
import { decideModelFailure } from './model-failures';
import { describeToolCall } from './tool-summary';

/** The mutable state a turn works on; it belongs to the session Workflow and outlives the turn. */
export interface TurnContext {
  sessionId: string;
  agent: AgentSnapshot;
  limits: SessionLimits;
  /** The session's read-only file mounts, passed to every sandbox call so a replaced container has them too. */
  files: SandboxFileMount[];
  /** The session's environment snapshot (network, packages), passed with the files for the same reason. */
  environment: SandboxEnvironment;
  /** Vault ids whose credentials MCP calls may use. */
  vaultIds: string[];
  log: EventLog;
  state: {
    messages: MessageParam[];
    usage: SessionUsage;
    status: SessionStatus;
    sandboxProvisioned: boolean;
    stepsThisRun: number;
  };
  setStatus(status: SessionStatus): void;
  /** Whether the run should continue-as-new at the next safe point. */
  shouldContinueAsNew(): boolean;
}

/** How a turn ended. */
export type TurnOutcome = { kind: 'idle' } | { kind: 'continue-as-new'; stepsTaken: number } | { kind: 'interrupted' };

/**
 * One turn of the harness: call the model; run each `tool_use` in the sandbox and feed the results back; repeat
 * until the model ends its turn. It stops at a safe point (between steps) when the run should continue-as-new.
 */
export class Turn {
  /** Tool calls logged as `agent.tool_use` whose `agent.tool_result` is not logged yet, by model tool-use id. */
  private readonly pendingToolUses = new Map<string, string>();

  constructor(
    private readonly context: TurnContext,
    private stepsTaken: number,
  ) {}

  /** Runs the turn to its end; a cancellation (interrupt) propagates to the caller, who calls `interrupted`. */
  async run(): Promise<TurnOutcome> {
    const { log, limits } = this.context;
    for (;;) {
      if (this.stepsTaken >= limits.maxStepsPerTurn) {
        log.append({
          type: 'session.error',
          error: {
            type: 'tool_use_limit_reached_error',
            message: `The turn reached the step limit of ${limits.maxStepsPerTurn} model calls and was ended.`,
            retry_status: { type: 'exhausted' },
          },
        });
        return this.idle({ type: 'end_turn' });
      }
      const reply = await this.callModelWithRetries();
      if (reply === null) return this.idle({ type: 'retries_exhausted' });
      this.stepsTaken += 1;
      this.context.state.stepsThisRun += 1;
      const toolUses = reply.content.filter((block) => block.type === 'tool_use');
      if (reply.stopReason !== 'tool_use' || toolUses.length === 0) return this.idle({ type: 'end_turn' });
      await this.runTools(toolUses);
      if (this.context.shouldContinueAsNew()) return { kind: 'continue-as-new', stepsTaken: this.stepsTaken };
    }
  }

  /** Closes an interrupted turn: tool calls that never finished get an error result, and the session goes idle. */
  interrupted(): TurnOutcome {
    for (const [toolUseId, eventId] of this.pendingToolUses) {
      this.recordToolResult({ toolUseId, output: 'Interrupted by the user.', isError: true }, eventId);
    }
    this.idle({ type: 'end_turn' });
    return { kind: 'interrupted' };
  }

  private idle(stopReason: Extract<SessionEvent, { type: 'session.status_idle' }>['stop_reason']): TurnOutcome {
    this.context.setStatus('idle');
    this.context.log.append({ type: 'session.status_idle', stop_reason: stopReason, stop_details: null });
    return { kind: 'idle' };
  }

  /** Calls the model, retrying retryable failures with durable timers; `null` when the attempts are used up. */
  private async callModelWithRetries(): Promise<CallModelResult | null> {
    const { log, agent, state, limits, sessionId } = this.context;
    for (let attempt = 1; ; attempt++) {
      const start = log.append({ type: 'span.model_request_start' });
      const messageEventId = log.reserveId();
      try {
        const result = await callModel(
          {
            sessionId,
            messageEventId,
            model: agent.model,
            system: agent.system,
            maxTokens: agent.maxTokens,
            messages: state.messages,
            toolNames: agent.tools,
          },
          `model ${agent.model} step ${this.stepsTaken + 1}${attempt > 1 ? ` attempt ${attempt}` : ''}`,
        );
        this.recordModelReply(start.id, messageEventId, result);
        return result;
      } catch (error) {
        log.append({
          type: 'span.model_request_end',
          model_request_start_id: start.id,
          is_error: true,
          model_usage: zeroUsage(),
        });
        if (isCancellation(error)) throw error;
        const decision = decideModelFailure(error, attempt);
        const retrying = decision.retryable && attempt < limits.maxModelAttempts;
        log.append({
          type: 'session.error',
          error: { ...decision.error, retry_status: { type: retrying ? 'retrying' : 'exhausted' } },
        });
        if (!retrying) return null;
        this.context.setStatus('rescheduling');
        log.append({ type: 'session.status_rescheduled' });
        await sleep(decision.retryDelayMs);
        this.context.setStatus('running');
        log.append({ type: 'session.status_running' });
      }
    }
  }

  private recordModelReply(startId: string, messageEventId: string, result: CallModelResult): void {
    const { log, state } = this.context;
    const usage = result.usage;
    const modelUsage = {
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
    };
    for (const key of Object.keys(modelUsage) as Array<keyof typeof modelUsage>) state.usage[key] += modelUsage[key];
    log.append({
      type: 'span.model_request_end',
      model_request_start_id: startId,
      is_error: false,
      model_usage: modelUsage,
    });
    state.messages = appendAssistantContent(state.messages, result.content);
    const text = result.content.flatMap((block) =>
      block.type === 'text' ? [{ type: 'text' as const, text: block.text }] : [],
    );
    if (text.length > 0) log.append({ type: 'agent.message', id: messageEventId, content: text });
    for (const block of result.content) {
      if (block.type !== 'tool_use') continue;
      const input = (block.input ?? {}) as Record<string, unknown>;
      const event = log.append({ type: 'agent.tool_use', name: block.name, input, evaluated_permission: 'allow' });
      this.pendingToolUses.set(block.id, event.id);
    }
  }

  /** Runs the step's tool calls one after the other, in the order the model asked for them. */
  private async runTools(toolUses: Array<Extract<ContentBlock, { type: 'tool_use' }>>): Promise<void> {
    const { sessionId, agent, state, files, environment } = this.context;
    for (const block of toolUses) {
      const eventId = this.pendingToolUses.get(block.id);
      if (eventId === undefined) continue;
      const input = (block.input ?? {}) as Record<string, unknown>;
      if (!agent.tools.includes(block.name)) {
        this.recordToolResult({ toolUseId: block.id, output: `Unknown tool: ${block.name}`, isError: true }, eventId);
        continue;
      }
      let result: ToolResultInput;
      try {
        if (!state.sandboxProvisioned) {
          await provisionSandbox({ sessionId, files, environment });
          state.sandboxProvisioned = true;
        }
        const executed = await execute(
          { sessionId, name: block.name, input, files, environment },
          describeToolCall(block.name, input),
        );
        result = { toolUseId: block.id, output: executed.output, isError: executed.isError };
      } catch (error) {
        if (isCancellation(error)) throw error;
        const message =
          error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
        result = { toolUseId: block.id, output: `The sandbox could not run this tool: ${message}`, isError: true };
      }
      this.recordToolResult(result, eventId);
    }
  }

  private recordToolResult(result: ToolResultInput, eventId: string): void {
    const { log, state } = this.context;
    const text = result.output.length > 0 ? result.output : '(no output)';
    log.append({
      type: 'agent.tool_result',
      tool_use_id: eventId,
      content: [{ type: 'text', text }],
      is_error: result.isError,
    });
    state.messages = appendUserContent(state.messages, [toolResultBlock(result)]);
    this.pendingToolUses.delete(result.toolUseId);
  }
}

function zeroUsage(): {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
} {
  return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}
