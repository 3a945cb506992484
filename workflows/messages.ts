import { defineQuery, defineSignal } from '@temporalio/workflow';
import type {
  EventsPage,
  GetEventsQueryInput,
  SessionSummary,
  UserInterruptSignalInput,
  UserMessageSignalInput,
} from '../common/session';

/** Delivers a `user.message`: it is logged at once and queued; queued messages are processed in order. */
export const sendMessageSignal = defineSignal<[UserMessageSignalInput]>('user.message');

/** Delivers a `user.interrupt`: the running model call or tool execution is cancelled and the session goes idle. */
export const interruptSessionSignal = defineSignal<[UserInterruptSignalInput]>('user.interrupt');

/** Ends the session: the running turn is cancelled, the sandbox destroyed, and the Workflow completes. */
export const endSessionSignal = defineSignal<[]>('session.end');

/** Reads events of this run after a position, without growing the history. */
export const getEventsQuery = defineQuery<EventsPage, [GetEventsQueryInput]>('events');

/** Reads the session's status, usage and counts. */
export const getSessionQuery = defineQuery<SessionSummary>('session');
