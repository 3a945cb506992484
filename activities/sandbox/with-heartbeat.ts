/** How often a running sandbox call heartbeats, well inside any sensible heartbeat timeout. */
export const HEARTBEAT_INTERVAL_MS = 200;

/**
 * Runs `work` while calling `heartbeat` every `HEARTBEAT_INTERVAL_MS`, so Temporal sees a long command as alive and can
 * deliver a cancellation to it; without a `heartbeat` it just runs `work`.
 */
export async function withHeartbeat<Result>(
  heartbeat: (() => void) | undefined,
  work: () => Promise<Result>,
): Promise<Result> {
  if (!heartbeat) return work();
  heartbeat();
  const timer = setInterval(heartbeat, HEARTBEAT_INTERVAL_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
