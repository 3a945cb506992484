import { setTimeout as sleep } from 'node:timers/promises';
import type {
  BetaSelfHostedWork,
  BetaSelfHostedWorkHeartbeatResponse,
  BetaSelfHostedWorkQueueStats,
} from '@anthropic-ai/sdk/resources/beta/environments/work';
import { DEFAULT_RECLAIM_MS } from '../../../common/work-queue';
import { ApiError } from '../../api-error';
import { ApiErrorWithCode } from '../../api-error-with-code';
import type { Principal } from '../../api-keys';
import type { EnvironmentService } from '../environment-service';
import type { PageRequest, StoredWorkItem, WorkRepository } from '../../store/control-plane-store';
import { acknowledged, decideHeartbeat, stopped, withMetadata } from './work-rules';
import { toHeartbeatView, toWorkView } from './work-view';

/** How often a blocking poll looks at the queue again while it waits. */
const POLL_INTERVAL_MS = 50;
/** A worker counts as polling for this long after its last poll (`workers_polling` in the queue stats). */
const POLLING_WINDOW_MS = 30_000;

/**
 * The work queue of a self-hosted environment (`environments.work.*`), as the official SDK's worker drives it: poll,
 * acknowledge, heartbeat, stop; and list, retrieve, update and stats for operators. Items are queued by the sessions'
 * Workflows (`requestSelfHostedWork`). Credentials as the SDK documents them: `list` takes the environment key and
 * refuses an API key, `retrieve` and `update` take an API key and refuse the environment key; the others take either.
 */
export class WorkService {
  /** Worker ids by environment, with when each last polled (this process's view). */
  private readonly pollers = new Map<string, Map<string, number>>();

  constructor(
    private readonly work: WorkRepository,
    private readonly environments: EnvironmentService,
    private readonly now: () => number = Date.now,
  ) {}

  /** Hands out the next item, waiting up to `blockMs` for one; `null` when none came. */
  async poll(
    principal: Principal,
    environmentId: string,
    options: { blockMs: number; reclaimOlderThanMs: number | undefined; workerId: string | null },
  ): Promise<BetaSelfHostedWork | null> {
    await this.requireEnvironment(principal, environmentId, 'any');
    if (options.workerId !== null) this.pollersOf(environmentId).set(options.workerId, this.now());
    const deadline = this.now() + options.blockMs;
    for (;;) {
      const nowMs = this.now();
      const reclaimMs = options.reclaimOlderThanMs ?? DEFAULT_RECLAIM_MS;
      const item = await this.work.deliverNext(
        environmentId,
        options.workerId,
        new Date(nowMs).toISOString(),
        new Date(nowMs - reclaimMs).toISOString(),
      );
      if (item !== null) return toWorkView(item);
      if (this.now() + POLL_INTERVAL_MS > deadline) return null;
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** Acknowledges a polled item: it leaves the queue (`starting`) until its first heartbeat. */
  async ack(principal: Principal, environmentId: string, workId: string): Promise<BetaSelfHostedWork> {
    await this.requireEnvironment(principal, environmentId, 'any');
    const changed = await this.work.change(environmentId, workId, (item) => ({
      item: acknowledged(item, this.now()),
      outcome: null,
    }));
    return toWorkView(this.found(changed, environmentId, workId).item);
  }

  /** Extends the item's lease when `expected` is the last heartbeat's text; 412 when it is stale. */
  async heartbeat(
    principal: Principal,
    environmentId: string,
    workId: string,
    expected: string,
    desiredTtlSeconds: number | undefined,
  ): Promise<BetaSelfHostedWorkHeartbeatResponse> {
    await this.requireEnvironment(principal, environmentId, 'any');
    const changed = await this.work.change(environmentId, workId, (item) => {
      const decision = decideHeartbeat(item, expected, desiredTtlSeconds, this.now());
      return { item: decision.kind === 'stale' ? null : decision.item, outcome: decision.kind };
    });
    const { item, outcome } = this.found(changed, environmentId, workId);
    if (outcome === 'stale') {
      throw new ApiErrorWithCode(
        'invalid_request_error',
        'heartbeat_precondition_failed',
        `expected_last_heartbeat does not match work item ${workId}'s last heartbeat: another worker holds its lease, ` +
          'or this one lost it.',
        { status: 412, details: { current_state: toHeartbeatView(item, false) } },
      );
    }
    return toHeartbeatView(item, outcome === 'extend');
  }

  /** Stops an item (idempotent: stopping a stopped item answers it as it is). */
  async stop(principal: Principal, environmentId: string, workId: string): Promise<BetaSelfHostedWork> {
    await this.requireEnvironment(principal, environmentId, 'any');
    const changed = await this.work.change(environmentId, workId, (item) => ({
      item: stopped(item, this.now()),
      outcome: null,
    }));
    return toWorkView(this.found(changed, environmentId, workId).item);
  }

  /** The environment's items, oldest first. */
  async list(
    principal: Principal,
    environmentId: string,
    page: PageRequest,
  ): Promise<{ data: BetaSelfHostedWork[]; next_page: string | null }> {
    await this.requireEnvironment(principal, environmentId, 'environment key');
    const stored = await this.work.list(environmentId, page);
    return { data: stored.items.map(toWorkView), next_page: stored.nextCursor };
  }

  /** One item. */
  async retrieve(principal: Principal, environmentId: string, workId: string): Promise<BetaSelfHostedWork> {
    await this.requireEnvironment(principal, environmentId, 'API key');
    const item = await this.work.find(environmentId, workId);
    if (item === null) throw notFound(environmentId, workId);
    return toWorkView(item);
  }

  /** Merges `metadata` into the item's (a string sets a key, `null` removes it). */
  async update(
    principal: Principal,
    environmentId: string,
    workId: string,
    metadata: Record<string, string | null>,
  ): Promise<BetaSelfHostedWork> {
    await this.requireEnvironment(principal, environmentId, 'API key');
    const changed = await this.work.change(environmentId, workId, (item) => ({
      item: withMetadata(item, metadata),
      outcome: null,
    }));
    return toWorkView(this.found(changed, environmentId, workId).item);
  }

  /** The queue's depth, its items handed out but not acknowledged, its oldest item and the workers polling it. */
  async stats(principal: Principal, environmentId: string): Promise<BetaSelfHostedWorkQueueStats> {
    await this.requireEnvironment(principal, environmentId, 'any');
    const counts = await this.work.stats(environmentId);
    const since = this.now() - POLLING_WINDOW_MS;
    const polling = [...this.pollersOf(environmentId).values()].filter((at) => at >= since).length;
    return {
      type: 'work_queue_stats',
      depth: counts.depth,
      pending: counts.pending,
      oldest_queued_at: counts.oldestQueuedAt,
      workers_polling: polling,
    };
  }

  /**
   * Checks that the environment exists and is self-hosted, and that `principal` may act on its queue: an environment
   * key only on its own environment, and each kind of key only where the SDK documents it (`needs`).
   */
  private async requireEnvironment(
    principal: Principal,
    environmentId: string,
    needs: 'any' | 'API key' | 'environment key',
  ): Promise<void> {
    if (principal.kind === 'environment' && principal.environmentId !== environmentId) {
      throw new ApiError(
        'permission_error',
        `This environment key belongs to ${principal.environmentId}, not ${environmentId}.`,
      );
    }
    if (needs === 'API key' && principal.kind !== 'api') {
      throw new ApiError('permission_error', 'This work endpoint takes an API key, not an environment key.');
    }
    if (needs === 'environment key' && principal.kind !== 'environment') {
      throw new ApiError('permission_error', "Listing work takes the environment's key, not an API key.");
    }
    const environment = await this.environments.retrieve(environmentId);
    if (environment.config.type !== 'self_hosted') {
      throw new ApiError(
        'invalid_request_error',
        `Environment ${environmentId} is ${environment.config.type}: only a self_hosted environment has a work queue.`,
      );
    }
  }

  private found<Outcome>(
    changed: { item: StoredWorkItem; outcome: Outcome } | null,
    environmentId: string,
    workId: string,
  ): { item: StoredWorkItem; outcome: Outcome } {
    if (changed === null) throw notFound(environmentId, workId);
    return changed;
  }

  private pollersOf(environmentId: string): Map<string, number> {
    let pollers = this.pollers.get(environmentId);
    if (pollers === undefined) {
      pollers = new Map();
      this.pollers.set(environmentId, pollers);
    }
    return pollers;
  }
}

function notFound(environmentId: string, workId: string): ApiError {
  return new ApiError('not_found_error', `Environment ${environmentId} has no work item ${workId}.`);
}
