import type Anthropic from '@anthropic-ai/sdk';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { LiveEventBus } from '../../common/live-events';
import type { CallModelInput, CallModelResult, Tool } from '../../common/model';
import { classifyModelError } from './classify-model-error';

/** What `callModel` needs from the worker. */
export interface CallModelDependencies {
  /** A client built with `maxRetries: 0`: Temporal owns every retry. */
  client: Anthropic;
  bus: LiveEventBus;
  /** Definitions of every tool the worker can run, by name. */
  toolDefinitions: ReadonlyMap<string, Tool>;
}

const HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * Calls the Messages API with streaming: text deltas go to the live bus as they arrive, the Activity heartbeats
 * while it waits, and its cancellation (a user interrupt) aborts the HTTP request.
 */
export async function callModel(input: CallModelInput, dependencies: CallModelDependencies): Promise<CallModelResult> {
  const context = Context.current();
  const tools = [
    ...input.toolNames.flatMap((name) => {
      const definition = dependencies.toolDefinitions.get(name);
      return definition === undefined ? [] : [definition];
    }),
    ...(input.extraTools ?? []),
  ];
  const heartbeat = setInterval(() => context.heartbeat(), HEARTBEAT_INTERVAL_MS);
  try {
    const stream = dependencies.client.messages.stream(
      {
        model: input.model,
        max_tokens: input.maxTokens,
        messages: input.messages,
        ...(input.system === null ? {} : { system: input.system }),
        ...(tools.length === 0 ? {} : { tools }),
      },
      { signal: context.cancellationSignal },
    );
    stream.on('text', (text) => {
      dependencies.bus.publish({ kind: 'text_delta', sessionId: input.sessionId, eventId: input.messageEventId, text });
    });
    const message = await stream.finalMessage();
    return { content: message.content, stopReason: message.stop_reason, usage: message.usage };
  } catch (error) {
    if (context.cancellationSignal.aborted) throw new CancelledFailure('The model call was cancelled.');
    throw classifyModelError(error);
  } finally {
    clearInterval(heartbeat);
  }
}
