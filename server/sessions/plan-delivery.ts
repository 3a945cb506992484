import type { SessionEvent, TextBlock } from '../../common/events';
import type {
  CustomToolResultInput,
  InitialEventInput,
  ToolConfirmationInput,
  ToolResultInput,
} from '../../common/session';
import type { UserEventRequest } from './session-service';

/**
 * One message to a session's Workflow for checked user events, in the order they came: a `user.message` (with the
 * `system.message` that follows it) and a `user.interrupt` go as Signals; a `user.define_outcome` and the answers to
 * waiting calls as Updates (whose id is the event's), which the Workflow's validators may refuse. A new session's
 * `initial_events` go together in one Signal instead (`initialEventsOf`).
 */
export type Delivery =
  | InitialEventInput
  | ({ type: 'user.tool_confirmation' } & ToolConfirmationInput)
  | ({ type: 'user.custom_tool_result' } & CustomToolResultInput)
  | ({ type: 'user.tool_result' } & ToolResultInput);

/** One delivery and the events the API echoes for it. */
export interface PlannedDelivery {
  delivery: Delivery;
  /** The echoed events, stamped with `processedAt`: the time the delivery is sent. */
  echoes(processedAt: string): SessionEvent[];
}

/** Where a plan's ids come from (random ones; fixed ones in tests). */
export interface DeliveryIds {
  eventId(): string;
  outcomeId(): string;
}

/**
 * Plans the delivery of checked user events, one delivery per event in their order: each gets its event id (and an
 * outcome its outcome id), a `system.message` rides with the `user.message` or `user.custom_tool_result` right before
 * it (the schema allows it only there), and an answer's echo names the child thread its call belongs to (`threadOf`,
 * by the call's event id).
 */
export function planDelivery(
  events: UserEventRequest[],
  threadOf: ReadonlyMap<string, string>,
  ids: DeliveryIds,
): PlannedDelivery[] {
  const planned: PlannedDelivery[] = [];
  for (const [index, event] of events.entries()) {
    if (event.type === 'system.message') continue;
    const id = ids.eventId();
    switch (event.type) {
      case 'user.message': {
        const system = accompanyingSystem(events, index, ids);
        planned.push({
          delivery: { type: 'user.message', id, content: event.content, ...(system && { system }) },
          echoes: (processed_at) => [
            { type: 'user.message', id, content: event.content, processed_at },
            ...(system === undefined ? [] : [{ type: 'system.message' as const, ...system, processed_at }]),
          ],
        });
        break;
      }
      case 'user.define_outcome': {
        const outcomeId = ids.outcomeId();
        const { description, rubric } = event;
        const maxIterations = event.max_iterations ?? null;
        planned.push({
          delivery: { type: 'user.define_outcome', id, outcomeId, description, rubric, maxIterations },
          echoes: (processed_at) => [
            {
              type: 'user.define_outcome',
              id,
              outcome_id: outcomeId,
              description,
              rubric,
              max_iterations: maxIterations,
              processed_at,
            },
          ],
        });
        break;
      }
      case 'user.interrupt': {
        // A child thread's id (the routes drop the primary thread's): only that thread is interrupted.
        const threadId = event.session_thread_id ?? undefined;
        planned.push({
          delivery: { type: 'user.interrupt', id, ...(threadId === undefined ? {} : { threadId }) },
          echoes: (processed_at) => [{ type: 'user.interrupt', id, ...threadField(threadId), processed_at }],
        });
        break;
      }
      case 'user.tool_confirmation': {
        const denyMessage = event.deny_message ?? null;
        const { tool_use_id: toolUseId, result } = event;
        planned.push({
          delivery: { type: 'user.tool_confirmation', id, toolUseId, result, denyMessage },
          echoes: (processed_at) => [
            {
              type: 'user.tool_confirmation',
              id,
              tool_use_id: toolUseId,
              result,
              ...(denyMessage === null ? {} : { deny_message: denyMessage }),
              ...threadField(threadOf.get(toolUseId)),
              processed_at,
            },
          ],
        });
        break;
      }
      case 'user.custom_tool_result': {
        const content = event.content ?? [];
        const isError = event.is_error ?? false;
        const customToolUseId = event.custom_tool_use_id;
        const system = accompanyingSystem(events, index, ids);
        planned.push({
          delivery: {
            type: 'user.custom_tool_result',
            id,
            customToolUseId,
            content,
            isError,
            ...(system && { system }),
          },
          echoes: (processed_at) => [
            {
              type: 'user.custom_tool_result',
              id,
              custom_tool_use_id: customToolUseId,
              content,
              is_error: isError,
              ...threadField(threadOf.get(customToolUseId)),
              processed_at,
            },
            ...(system === undefined ? [] : [{ type: 'system.message' as const, ...system, processed_at }]),
          ],
        });
        break;
      }
      case 'user.tool_result': {
        const content = event.content ?? [];
        const isError = event.is_error ?? false;
        const toolUseId = event.tool_use_id;
        planned.push({
          delivery: { type: 'user.tool_result', id, toolUseId, content, isError },
          echoes: (processed_at) => [
            { type: 'user.tool_result', id, tool_use_id: toolUseId, content, is_error: isError, processed_at },
          ],
        });
        break;
      }
    }
  }
  return planned;
}

/**
 * A new session's deliveries as the `session.initial_events` Signal carries them; an answer among them is a defect of
 * the caller (a new session waits for no call, and its schema takes none).
 */
export function initialEventsOf(deliveries: Delivery[]): InitialEventInput[] {
  return deliveries.map((delivery) => {
    if (isInitialEvent(delivery)) return delivery;
    throw new Error(`A new session's initial events cannot hold a ${delivery.type}.`);
  });
}

function isInitialEvent(delivery: Delivery): delivery is InitialEventInput {
  return (
    delivery.type === 'user.message' || delivery.type === 'user.interrupt' || delivery.type === 'user.define_outcome'
  );
}

/** The `system.message` right after `events[index]`, with its own event id, if there is one. */
function accompanyingSystem(
  events: UserEventRequest[],
  index: number,
  ids: DeliveryIds,
): { id: string; content: TextBlock[] } | undefined {
  const next = events[index + 1];
  return next?.type === 'system.message' ? { id: ids.eventId(), content: next.content } : undefined;
}

function threadField(threadId: string | undefined): { session_thread_id?: string } {
  return threadId === undefined ? {} : { session_thread_id: threadId };
}
