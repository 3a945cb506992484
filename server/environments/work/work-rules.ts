import {
  DEFAULT_LEASE_TTL_SECONDS,
  LEASE_TTL_BOUNDS_SECONDS,
  NO_HEARTBEAT,
  workItemServes,
} from '../../../common/work-queue';
import type { StoredWorkItem } from '../../store/control-plane-store';

/** What a heartbeat does to an item: extend its lease, refuse a stale one (412), or tell the worker to let go. */
export type HeartbeatDecision =
  { kind: 'extend'; item: StoredWorkItem } | { kind: 'stale' } | { kind: 'release'; item: StoredWorkItem | null };

/**
 * The heartbeat rule of the hosted API: the first heartbeat claims the lease with `NO_HEARTBEAT`, each later one
 * echoes the `last_heartbeat` text the previous answer gave (a mismatch is a stale lease: 412, and the worker lets the
 * item go without stopping it). An item that is stopping or stopped, or whose lease ran out, is not compared: the
 * answer is `lease_extended: false` (an expired item is stopped here), and the worker stops.
 */
export function decideHeartbeat(
  item: StoredWorkItem,
  expected: string,
  desiredTtlSeconds: number | undefined,
  nowMs: number,
): HeartbeatDecision {
  if (item.state === 'stopping' || item.state === 'stopped') return { kind: 'release', item: null };
  if (!workItemServes(item, nowMs)) return { kind: 'release', item: stopped(item, nowMs) };
  const current = item.lastHeartbeat ?? NO_HEARTBEAT;
  if (expected !== current) return { kind: 'stale' };
  const ttlSeconds = clampTtl(desiredTtlSeconds ?? item.ttlSeconds ?? DEFAULT_LEASE_TTL_SECONDS);
  // Each heartbeat answers a new text, so a worker echoing an older one is told its lease is stale.
  let beatMs = nowMs;
  if (item.lastHeartbeat !== null && Date.parse(item.lastHeartbeat) >= beatMs)
    beatMs = Date.parse(item.lastHeartbeat) + 1;
  const now = new Date(beatMs).toISOString();
  return {
    kind: 'extend',
    item: {
      ...item,
      state: 'active',
      acknowledged_at: item.acknowledged_at ?? now,
      startedAt: item.startedAt ?? now,
      lastHeartbeat: now,
      ttlSeconds,
      lease_expires_at: new Date(beatMs + ttlSeconds * 1000).toISOString(),
    },
  };
}

/**
 * Acknowledging moves a queued item to `starting` and gives it a lease until its first heartbeat (the default TTL);
 * an item acknowledged already, or past it, stays as it is (an acknowledgement retried after its answer was lost).
 */
export function acknowledged(item: StoredWorkItem, nowMs: number): StoredWorkItem | null {
  if (item.state !== 'queued') return null;
  const now = new Date(nowMs).toISOString();
  return {
    ...item,
    state: 'starting',
    acknowledged_at: now,
    lease_expires_at: new Date(nowMs + item.ttlSeconds * 1000).toISOString(),
  };
}

/** The item stopped now (the hosted worker always stops with `force`); an item stopped already stays as it is. */
export function stopped(item: StoredWorkItem, nowMs: number): StoredWorkItem | null {
  if (item.state === 'stopped') return null;
  const now = new Date(nowMs).toISOString();
  return { ...item, state: 'stopped', stopRequestedAt: item.stopRequestedAt ?? now, stoppedAt: now };
}

/** The item's metadata with a patch applied: a string sets a key, `null` removes it. */
export function withMetadata(item: StoredWorkItem, patch: Record<string, string | null>): StoredWorkItem {
  const metadata = { ...item.metadata };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete metadata[key];
    else metadata[key] = value;
  }
  return { ...item, metadata };
}

function clampTtl(seconds: number): number {
  return Math.min(LEASE_TTL_BOUNDS_SECONDS.max, Math.max(LEASE_TTL_BOUNDS_SECONDS.min, Math.round(seconds)));
}
