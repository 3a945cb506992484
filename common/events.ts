import type {
  BetaManagedAgentsAgentCustomToolUseEvent,
  BetaManagedAgentsAgentMCPToolResultEvent,
  BetaManagedAgentsAgentMCPToolUseEvent,
  BetaManagedAgentsAgentMessageEvent,
  BetaManagedAgentsAgentThinkingEvent,
  BetaManagedAgentsAgentThreadContextCompactedEvent,
  BetaManagedAgentsAgentThreadMessageReceivedEvent,
  BetaManagedAgentsAgentThreadMessageSentEvent,
  BetaManagedAgentsAgentToolResultEvent,
  BetaManagedAgentsAgentToolUseEvent,
  BetaManagedAgentsDocumentBlock,
  BetaManagedAgentsImageBlock,
  BetaManagedAgentsSessionDeletedEvent,
  BetaManagedAgentsSessionErrorEvent,
  BetaManagedAgentsSessionStatusIdleEvent,
  BetaManagedAgentsSessionStatusRescheduledEvent,
  BetaManagedAgentsSessionStatusRunningEvent,
  BetaManagedAgentsSessionStatusTerminatedEvent,
  BetaManagedAgentsSessionThreadCreatedEvent,
  BetaManagedAgentsSessionThreadStatusIdleEvent,
  BetaManagedAgentsSessionThreadStatusRescheduledEvent,
  BetaManagedAgentsSessionThreadStatusRunningEvent,
  BetaManagedAgentsSessionThreadStatusTerminatedEvent,
  BetaManagedAgentsSpanModelRequestEndEvent,
  BetaManagedAgentsSpanModelRequestStartEvent,
  BetaManagedAgentsSpanOutcomeEvaluationEndEvent,
  BetaManagedAgentsSpanOutcomeEvaluationOngoingEvent,
  BetaManagedAgentsSpanOutcomeEvaluationStartEvent,
  BetaManagedAgentsTextBlock,
  BetaManagedAgentsUserInterruptEvent,
  BetaManagedAgentsUserCustomToolResultEvent,
  BetaManagedAgentsUserDefineOutcomeEvent,
  BetaManagedAgentsUserMessageEvent,
  BetaManagedAgentsUserToolConfirmationEvent,
} from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type {
  BetaManagedAgentsDeltaEvent,
  BetaManagedAgentsSessionUpdatedEvent,
  BetaManagedAgentsSessionUsageEvent,
  BetaManagedAgentsStartEvent,
  BetaManagedAgentsSystemMessageEvent,
  BetaManagedAgentsUserToolResultEvent,
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
  | BetaManagedAgentsUserToolResultEvent
  | BetaManagedAgentsSystemMessageEvent
  | BetaManagedAgentsAgentMessageEvent
  | BetaManagedAgentsAgentThinkingEvent
  | ThreadContextCompactedEvent
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
  | BetaManagedAgentsSessionUpdatedEvent
  | BetaManagedAgentsSessionDeletedEvent
  | BetaManagedAgentsSessionUsageEvent
  | BetaManagedAgentsSpanModelRequestStartEvent
  | BetaManagedAgentsSpanModelRequestEndEvent
  | BetaManagedAgentsUserDefineOutcomeEvent
  | BetaManagedAgentsSpanOutcomeEvaluationStartEvent
  | BetaManagedAgentsSpanOutcomeEvaluationOngoingEvent
  | BetaManagedAgentsSpanOutcomeEvaluationEndEvent
  | BetaManagedAgentsSessionThreadCreatedEvent
  | BetaManagedAgentsSessionThreadStatusRunningEvent
  | BetaManagedAgentsSessionThreadStatusIdleEvent
  | BetaManagedAgentsSessionThreadStatusRescheduledEvent
  | BetaManagedAgentsSessionThreadStatusTerminatedEvent
  | BetaManagedAgentsAgentThreadMessageSentEvent
  | BetaManagedAgentsAgentThreadMessageReceivedEvent;

/**
 * `agent.thread_context_compacted` as the hosted API sends it, with `pre_compaction_tokens`: the estimated size of the
 * conversation before the harness compacted it.
 */
export type ThreadContextCompactedEvent = BetaManagedAgentsAgentThreadContextCompactedEvent & {
  pre_compaction_tokens: number;
};

/** The `type` of any session event Keel produces. */
export type SessionEventType = SessionEvent['type'];

/** The session error object carried by `session.error`. */
export type SessionErrorObject = BetaManagedAgentsSessionErrorEvent['error'];

/** A stream-only preview: never part of the log, the buffered event that follows carries the whole content. */
export type PreviewEvent = BetaManagedAgentsStartEvent | BetaManagedAgentsDeltaEvent;

/** A text content block, as events and model messages carry it. */
export type TextBlock = BetaManagedAgentsTextBlock;

/** An image or document block of a `user.message`, with the hosted shapes (base64, URL, text or `file` sources). */
export type MediaBlock = BetaManagedAgentsImageBlock | BetaManagedAgentsDocumentBlock;

/** A content block of a `user.message`: text, an image or a document. */
export type UserContentBlock = TextBlock | MediaBlock;

/**
 * One event of the log with its position. Positions start at 0, are dense and never change: reading the log
 * twice (before and after a crash or a continue-as-new) gives the same ids at the same positions.
 */
export interface LoggedEvent {
  position: number;
  event: SessionEvent;
  /** Present when the event's text body is in the blob store (see `StoredBodyRef`); the server resolves it. */
  contentKey?: string;
}

/** The status a session reports, as the hosted API names it. */
export type SessionStatus = 'idle' | 'running' | 'rescheduling' | 'terminated';

/**
 * A logged event whose text body is kept out of Temporal history: `event.content` is `[{type: 'text', text}]` with
 * the text stored in the blob store under `contentKey` (an `agent.tool_result` or `agent.mcp_tool_result` whose
 * output was written there by its Activity). The server fills the text in before any client sees the event, so the
 * wire shape is the hosted one; the event stays a deterministic function of the history (the key is in it, and the
 * body under a key never changes).
 */
export interface StoredBodyRef {
  contentKey: string;
}

/**
 * A run's events written once, when the run continued-as-new, as one immutable blob (JSON
 * `{ sessionId, firstPosition, nextPosition, events: LoggedEvent[] }`): reading a closed run costs a blob read, not a
 * replay. The next runs carry the references of every archive before them.
 */
export interface EventArchiveRef {
  /** Position of the archive's first event. */
  firstPosition: number;
  /** Position after its last event (the next run's first position). */
  nextPosition: number;
  /** Blob key of the archive. */
  key: string;
}

/** The `format` of an archive index page. */
export const EVENT_ARCHIVE_INDEX_FORMAT = 'keel.event-archive-index.v1';

/**
 * A page of archive references, written when a run hands on more than a few: the runs carry the newest page's key
 * instead of a list that grows with every run, so what crosses continue-as-new stays the same size however long the
 * session. Pages link back to the page before, oldest references first within a page.
 */
export interface EventArchiveIndexPage {
  format: typeof EVENT_ARCHIVE_INDEX_FORMAT;
  /** The page before this one, or `null` for the first. */
  previous: string | null;
  archives: EventArchiveRef[];
}

/** The `format` of an event archive; the payload store routes payloads that start with it to the blob folder. */
export const EVENT_ARCHIVE_FORMAT = 'keel.event-archive.v1';

/** The body of an event archive blob (and the input of the Activity that writes it). */
export interface EventArchive {
  /** Always `EVENT_ARCHIVE_FORMAT`, and first, so the payload store recognises an archive by its first bytes. */
  format: typeof EVENT_ARCHIVE_FORMAT;
  sessionId: string;
  firstPosition: number;
  nextPosition: number;
  events: LoggedEvent[];
}
