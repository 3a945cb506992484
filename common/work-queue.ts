/**
 * The work queue of a `self_hosted` environment, as the hosted API defines it (`client.beta.environments.work`): a
 * session whose built-in tools must run gets a work item; the environment's worker polls it, acknowledges it, holds
 * its lease with heartbeats, serves the session (reads its events, posts `user.tool_result`s) and stops it. These
 * are the pure rules both the server (the routes) and the worker (the Activity that queues work) apply.
 */

/** A work item's state (`BetaSelfHostedWork['state']`). */
export type WorkState = 'queued' | 'starting' | 'active' | 'stopping' | 'stopped';

/** The fields of a work item the lease rules read. */
export interface WorkLease {
  state: WorkState;
  /** RFC 3339; set when the item was acknowledged (claimed by a worker, before its first heartbeat). */
  acknowledged_at: string | null;
  /** RFC 3339; the end of the lease the last heartbeat (or the acknowledgement) gave. */
  lease_expires_at: string | null;
}

/** The lease a heartbeat gives when it asks for none, as the hosted API's default (`CLAIM_TIMEOUT_MS` in the SDK). */
export const DEFAULT_LEASE_TTL_SECONDS = 300;
/** The shortest and longest lease a heartbeat's `desired_ttl_seconds` may ask for. */
export const LEASE_TTL_BOUNDS_SECONDS = { min: 2, max: 3_600 } as const;
/** A polled item that is not acknowledged within this many milliseconds is delivered again (the API's default). */
export const DEFAULT_RECLAIM_MS = 5_000;
/** The literal a first heartbeat sends as `expected_last_heartbeat`, to claim an unclaimed lease. */
export const NO_HEARTBEAT = 'NO_HEARTBEAT';

/**
 * Whether `item` still serves its session at `nowMs`: queued (a worker will take it), or claimed with a lease that has
 * not run out. An item that does not serve is stopped, and its session gets a new one when it needs a worker again.
 */
export function workItemServes(item: WorkLease, nowMs: number): boolean {
  if (item.state === 'queued') return true;
  if (item.state === 'stopping' || item.state === 'stopped') return false;
  return item.lease_expires_at !== null && Date.parse(item.lease_expires_at) > nowMs;
}

/** Input of the `requestSelfHostedWork` Activity. */
export interface RequestWorkInput {
  environmentId: string;
  sessionId: string;
}

/** Result of `requestSelfHostedWork`: the item that serves the session, and whether this call queued it. */
export interface RequestWorkResult {
  workId: string;
  queued: boolean;
}

/**
 * What a work request does with a session's open items (oldest first): keeps the first that still serves it (queued,
 * or with a live lease) and stops the others whose lease ran out; `serving` is `null` when a new item must be queued.
 */
export function planWorkRequest(
  open: ReadonlyArray<WorkLease & { id: string }>,
  nowMs: number,
): { serving: string | null; stop: string[] } {
  let serving: string | null = null;
  const stop: string[] = [];
  for (const item of open) {
    if (workItemServes(item, nowMs)) serving ??= item.id;
    else stop.push(item.id);
  }
  return { serving, stop };
}

/** A new work item's id. */
export function newWorkId(randomHex: string): string {
  return `work_${randomHex}`;
}
