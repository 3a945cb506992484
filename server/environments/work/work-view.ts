import type {
  BetaSelfHostedWork,
  BetaSelfHostedWorkHeartbeatResponse,
} from '@anthropic-ai/sdk/resources/beta/environments/work';
import type { StoredWorkItem } from '../../store/control-plane-store';

/**
 * A work item as the API returns it (`BetaSelfHostedWork`). Keel issues no per-item `secret`: the worker serves the
 * session with its environment key, which Keel accepts on that environment's sessions.
 */
export function toWorkView(item: StoredWorkItem): BetaSelfHostedWork {
  return {
    type: 'work',
    id: item.id,
    environment_id: item.environmentId,
    data: { type: 'session', id: item.sessionId },
    state: item.state,
    created_at: item.createdAt,
    acknowledged_at: item.acknowledged_at,
    started_at: item.startedAt,
    latest_heartbeat_at: item.lastHeartbeat,
    stop_requested_at: item.stopRequestedAt,
    stopped_at: item.stoppedAt,
    metadata: item.metadata,
    secret: null,
  };
}

/** A heartbeat's answer (`BetaSelfHostedWorkHeartbeatResponse`). */
export function toHeartbeatView(item: StoredWorkItem, leaseExtended: boolean): BetaSelfHostedWorkHeartbeatResponse {
  return {
    type: 'work_heartbeat',
    last_heartbeat: item.lastHeartbeat ?? '',
    lease_extended: leaseExtended,
    state: item.state,
    ttl_seconds: item.ttlSeconds,
  };
}
