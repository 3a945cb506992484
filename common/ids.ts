/** Id prefixes of the hosted API: a session id is also its Workflow ID. */
export const ID_PREFIXES = {
  session: 'sesn_',
  /** A session's thread; Keel's one thread per session is its primary thread, `sthr_` + the session id's suffix. */
  sessionThread: 'sthr_',
  event: 'sevt_',
  outcome: 'outc_',
} as const;

/** Whether `value` has the shape of a session id (`sesn_` and 8 to 64 url-safe characters). */
export function isSessionId(value: string): boolean {
  return /^sesn_[0-9A-Za-z_-]{8,64}$/.test(value);
}
