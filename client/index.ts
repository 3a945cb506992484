/** Keel's TypeScript client library. */
export { KeelClient, untilIdle } from './keel-client';
export type { EventsOptions, KeelClientOptions, Session } from './keel-client';
export { KeelApiError } from './keel-api-error';
export type { StreamItem } from './stream-items';
