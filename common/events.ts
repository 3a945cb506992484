import type {
  BetaManagedAgentsAgentCustomToolUseEvent,
  BetaManagedAgentsAgentMCPToolResultEvent,
  BetaManagedAgentsAgentMCPToolUseEvent,
  BetaManagedAgentsAgentMessageEvent,
  BetaManagedAgentsAgentToolResultEvent,
  BetaManagedAgentsAgentToolUseEvent,
  BetaManagedAgentsSessionErrorEvent,
  BetaManagedAgentsSessionStatusIdleEvent,
  BetaManagedAgentsSessionStatusRescheduledEvent,
  BetaManagedAgentsSessionStatusRunningEvent,
  BetaManagedAgentsSessionStatusTerminatedEvent,
  BetaManagedAgentsSpanModelRequestEndEvent,
  BetaManagedAgentsSpanModelRequestStartEvent,
  BetaManagedAgentsTextBlock,
  BetaManagedAgentsUserInterruptEvent,
  BetaManagedAgentsUserCustomToolResultEvent,
  BetaManagedAgentsUserMessageEvent,
  BetaManagedAgentsUserToolConfirmationEvent,
} from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type {
  BetaManagedAgentsDeltaEvent,
  BetaManagedAgentsStartEvent,
} from '@anthropic-ai/sdk/resources/beta/sessions/sessions';

/**
 * The session events Keel produces, with the hosted Managed Agents names and shapes (type-only imports from the
 * pinned SDK, so a drift in the SDK shows as a compile error rather than a wire mismatch).
 */
export type SessionEvent =
  | BetaManagedAgentsUserMessageEvent
  | BetaManagedAgentsUserInterruptEvent
  | BetaManagedAgentsUserToolConfirmationEvent
  | BetaManagedAgentsUserCustomToolResultEvent
  | BetaManagedAgentsAgentMessageEvent
  | BetaManagedAgentsAgentToolUseEvent
  | BetaManagedAgentsAgentToolResultEvent
  | BetaManagedAgentsAgentCustomToolUseEvent
  | BetaManagedAgentsAgentMCPToolUseEvent
  | BetaManagedAgentsAgentMCPToolResultEvent
  | BetaManagedAgentsSessionErrorEvent
  | BetaManagedAgentsSessionStatusRunningEvent
  | BetaManagedAgentsSessionStatusIdleEvent
  | BetaManagedAgentsSessionStatusRescheduledEvent
  | BetaManagedAgentsSessionStatusTerminatedEvent
  | BetaManagedAgentsSpanModelRequestStartEvent
  | BetaManagedAgentsSpanModelRequestEndEvent;

/** The `type` of any session event Keel produces. */
export type SessionEventType = SessionEvent['type'];

/** The session error object carried by `session.error`. */
export type SessionErrorObject = BetaManagedAgentsSessionErrorEvent['error'];

/** A stream-only preview: never part of the log, the buffered event that follows carries the whole content. */
export type PreviewEvent = BetaManagedAgentsStartEvent | BetaManagedAgentsDeltaEvent;

/** A text content block, as events and model messages carry it. */
export type TextBlock = BetaManagedAgentsTextBlock;

/**
 * One event of the log with its position. Positions start at 0, are dense and never change: reading the log
 * twice (before and after a crash or a continue-as-new) gives the same ids at the same positions.
 */
export interface LoggedEvent {
  position: number;
  event: SessionEvent;
}

/** The status a session reports, as the hosted API names it. */
export type SessionStatus = 'idle' | 'running' | 'rescheduling' | 'terminated';
