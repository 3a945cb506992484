/**
 * How long an idle session may wait now before its sandbox container is stopped (its workspace volume kept: the next
 * sandbox tool call starts a new container on it), or `null` when nothing is to be stopped: no container, a session
 * whose tools run on a self-hosted environment's workers, or no timeout (0, or a session started before it existed).
 */
export function sandboxIdleStopAfterMs(session: {
  sandboxProvisioned: boolean;
  selfHosted: boolean;
  idleTimeoutMs: number | undefined;
}): number | null {
  if (!session.sandboxProvisioned || session.selfHosted) return null;
  const timeout = session.idleTimeoutMs ?? 0;
  return timeout > 0 ? timeout : null;
}
