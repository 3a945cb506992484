import type { LoggedEvent } from '../common/events';

/** What a session stream yields: a logged event with its position, or a best-effort text delta. */
export type StreamItem = ({ kind: 'event' } & LoggedEvent) | { kind: 'text_delta'; eventId: string; text: string };
