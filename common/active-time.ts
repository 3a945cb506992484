import type { SessionStatus } from './events';

/**
 * The time a session spent `running`, kept across runs: the stretches already closed, and the start of the current one
 * (epoch milliseconds) while the session runs. JSON-plain, so it crosses continue-as-new.
 */
export interface ActiveTime {
  closedMs: number;
  runningSince: number | null;
}

/** No time running yet. */
export function noActiveTime(): ActiveTime {
  return { closedMs: 0, runningSince: null };
}

/** The active time after the session's status became `status` at `nowMs`: only `running` counts. */
export function afterStatus(time: ActiveTime, status: SessionStatus, nowMs: number): ActiveTime {
  if (status === 'running') return time.runningSince === null ? { ...time, runningSince: nowMs } : time;
  if (time.runningSince === null) return time;
  return { closedMs: time.closedMs + Math.max(0, nowMs - time.runningSince), runningSince: null };
}

/** Seconds spent running up to `nowMs`, the current stretch included. */
export function activeSeconds(time: ActiveTime, nowMs: number): number {
  const current = time.runningSince === null ? 0 : Math.max(0, nowMs - time.runningSince);
  return (time.closedMs + current) / 1000;
}
