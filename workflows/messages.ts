import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  CustomToolResultInput,
  EventsPage,
  GetEventsQueryInput,
  SessionResourceChange,
  SessionResourceRecord,
  SessionSummary,
  ToolConfirmationInput,
  ToolResultInput,
  UpdateSessionInput,
  UserInterruptSignalInput,
  UserMessageSignalInput,
  InitialEventInput,
} from '../common/session';
import type { DefineOutcomeInput } from '../common/outcome';
import type { ThreadAnswerInput, ThreadMessageInput, ThreadReport } from '../common/multiagent';

/** Delivers a `user.message`: it is logged at once and queued; queued messages are processed in order. */
export const sendMessageSignal = defineSignal<[UserMessageSignalInput]>('user.message');

/** Delivers a `user.interrupt`: the running model call or tool execution is cancelled and the session goes idle. */
export const interruptSessionSignal = defineSignal<[UserInterruptSignalInput]>('user.interrupt');

/**
 * Delivers a `user.tool_confirmation` for a tool call the session is blocked on. An Update, so a confirmation for an
 * unknown or already answered call is refused by its validator and changes nothing.
 */
export const toolConfirmationUpdate = defineUpdate<void, [ToolConfirmationInput]>('user.tool_confirmation');

/** Delivers a `user.custom_tool_result` for a custom tool call the session is blocked on; validated the same way. */
export const customToolResultUpdate = defineUpdate<void, [CustomToolResultInput]>('user.custom_tool_result');

/**
 * Delivers a `user.tool_result` from a self-hosted environment's worker for a built-in tool call the session routed to
 * it; refused by its validator unless that call waits for its result.
 */
export const toolResultUpdate = defineUpdate<void, [ToolResultInput]>('user.tool_result');

/**
 * Delivers a `user.define_outcome`: it is logged and queued like a message whose text is the description. An Update,
 * so a second outcome while one is still worked on is refused by its validator and changes nothing.
 */
export const defineOutcomeUpdate = defineUpdate<void, [DefineOutcomeInput]>('user.define_outcome');

/**
 * Delivers a new session's `initial_events`, in order, as one Signal, so they are in its history before any worker
 * runs it. The create checked them; a `user.define_outcome` among them is taken as `defineOutcomeUpdate` is (a new
 * session works on no outcome, so there is nothing for a validator to refuse).
 */
export const deliverInitialEventsSignal = defineSignal<[InitialEventInput[]]>('session.initial_events');

/** Ends the session: the running turn is cancelled, the sandbox destroyed, and the Workflow completes. */
export const endSessionSignal = defineSignal<[]>('session.end');

/** Changes the session's title and metadata (kept in its memo, so listings show them); answers once applied. */
export const updateSessionUpdate = defineUpdate<void, [UpdateSessionInput]>('session.update');

/**
 * Adds or deletes one of the session's resources, or records a repository token's rotation; answers with the resource
 * list as it is after. Refused by its validator (nothing changes) for a mount path in use, an unknown resource id, a
 * rotation of a resource that has no token, or an ended session.
 */
export const sessionResourcesUpdate = defineUpdate<SessionResourceRecord[], [SessionResourceChange]>(
  'session.resources',
);

/** Archives the session: from then on it accepts no new events; its log stays readable. */
export const archiveSessionUpdate = defineUpdate<string, []>('session.archive');

/** Reads events of this run after a position, without growing the history. */
export const getEventsQuery = defineQuery<EventsPage, [GetEventsQueryInput]>('events');

/** Reads the session's status, usage and counts. */
export const getSessionQuery = defineQuery<SessionSummary>('session');

/** Archives one of the session's child threads, which must be idle; answers with its `archived_at`. */
export const archiveThreadUpdate = defineUpdate<string, [{ threadId: string }]>('session.thread_archive');

/** Delivers a message from the coordinator to a child thread (the thread's Workflow): it runs a turn on it. */
export const threadMessageSignal = defineSignal<[ThreadMessageInput]>('thread.message');

/** A child thread's report to its session's Workflow: a status change, and its reply when its turn ended. */
export const threadReportSignal = defineSignal<[ThreadReport]>('thread.report');

/** Delivers the client's answer to a child thread's waiting call (the session checked it), to the thread's Workflow. */
export const threadAnswerSignal = defineSignal<[ThreadAnswerInput]>('thread.answer');
