import { describe, expect, it } from 'vitest';
import { NO_HEARTBEAT, workItemServes } from '../common/work-queue';
import {
  ENVIRONMENT_KEY_EVENTS,
  environmentKeyTarget,
  requireEnvironmentKeyScope,
} from '../server/environments/work/environment-key-scope';
import { acknowledged, decideHeartbeat, stopped, withMetadata } from '../server/environments/work/work-rules';
import type { StoredWorkItem } from '../server/store/control-plane-store';
import { toolResultText } from '../workflows/self-hosted-results';

const T0 = Date.parse('2026-12-04T12:00:00.000Z');

function item(overrides: Partial<StoredWorkItem> = {}): StoredWorkItem {
  return {
    id: 'work_1',
    environmentId: 'env_1',
    sessionId: 'sesn_1',
    state: 'queued',
    createdAt: new Date(T0).toISOString(),
    deliveredAt: null,
    workerId: null,
    acknowledged_at: null,
    startedAt: null,
    lastHeartbeat: null,
    ttlSeconds: 300,
    lease_expires_at: null,
    stopRequestedAt: null,
    stoppedAt: null,
    metadata: {},
    ...overrides,
  };
}

describe('work item leases', () => {
  it('a queued item serves; a claimed one while its lease lasts; a stopped one never', () => {
    expect(workItemServes(item(), T0)).toBe(true);
    const claimed = acknowledged(item(), T0);
    expect(claimed).toMatchObject({ state: 'starting', acknowledged_at: '2026-12-04T12:00:00.000Z' });
    expect(workItemServes(claimed!, T0 + 299_000)).toBe(true);
    expect(workItemServes(claimed!, T0 + 300_001)).toBe(false);
    expect(workItemServes(stopped(claimed!, T0)!, T0)).toBe(false);
    // Acknowledging twice changes nothing.
    expect(acknowledged(claimed!, T0 + 1)).toBeNull();
  });

  it('the first heartbeat claims with NO_HEARTBEAT, each later one must echo the last answer, or it is stale', () => {
    const claimed = acknowledged(item(), T0)!;
    const first = decideHeartbeat(claimed, NO_HEARTBEAT, undefined, T0 + 10);
    expect(first.kind).toBe('extend');
    if (first.kind !== 'extend') return;
    expect(first.item).toMatchObject({ state: 'active', lastHeartbeat: '2026-12-04T12:00:00.010Z', ttlSeconds: 300 });
    expect(first.item.lease_expires_at).toBe('2026-12-04T12:05:00.010Z');
    // A second worker claiming the same item, or an old echo, is stale.
    expect(decideHeartbeat(first.item, NO_HEARTBEAT, undefined, T0 + 20).kind).toBe('stale');
    expect(decideHeartbeat(first.item, '2026-12-04T12:00:00.000Z', undefined, T0 + 20).kind).toBe('stale');
    // The right echo in the same millisecond still gets a new text, and a desired TTL is honoured (within bounds).
    const second = decideHeartbeat(first.item, first.item.lastHeartbeat!, 4, T0 + 10);
    expect(second).toMatchObject({
      kind: 'extend',
      item: { lastHeartbeat: '2026-12-04T12:00:00.011Z', ttlSeconds: 4 },
    });
    const tiny = decideHeartbeat(first.item, first.item.lastHeartbeat!, 0, T0 + 30);
    expect(tiny).toMatchObject({ kind: 'extend', item: { ttlSeconds: 2 } });
  });

  it('a stopped item, or one whose lease ran out, releases its worker without comparing', () => {
    const active = decideHeartbeat(acknowledged(item(), T0)!, NO_HEARTBEAT, 10, T0);
    if (active.kind !== 'extend') throw new Error('expected a lease');
    const expired = decideHeartbeat(active.item, active.item.lastHeartbeat!, undefined, T0 + 11_000);
    expect(expired).toMatchObject({ kind: 'release', item: { state: 'stopped' } });
    const halted = stopped(active.item, T0 + 1)!;
    expect(decideHeartbeat(halted, 'anything', undefined, T0 + 2)).toEqual({ kind: 'release', item: null });
    expect(stopped(halted, T0 + 3)).toBeNull();
  });

  it('metadata merges: a string sets, null removes', () => {
    expect(withMetadata(item({ metadata: { a: '1', b: '2' } }), { a: null, c: '3' }).metadata).toEqual({
      b: '2',
      c: '3',
    });
  });
});

describe('environment keys', () => {
  it('reach their work queue and their sessions only', () => {
    expect(environmentKeyTarget('GET', '/v1/environments/env_1/work/poll?block_ms=999')).toEqual({
      kind: 'work',
      environmentId: 'env_1',
    });
    expect(environmentKeyTarget('POST', '/v1/environments/env_1/work/work_1/heartbeat')).toMatchObject({
      kind: 'work',
    });
    expect(environmentKeyTarget('GET', '/v1/sessions/sesn_1')).toEqual({ kind: 'session', sessionId: 'sesn_1' });
    expect(environmentKeyTarget('GET', '/v1/sessions/sesn_1/events?limit=1000')).toMatchObject({ kind: 'session' });
    expect(environmentKeyTarget('GET', '/v1/sessions/sesn_1/events/stream')).toMatchObject({ kind: 'session' });
    expect(environmentKeyTarget('POST', '/v1/sessions/sesn_1/events')).toMatchObject({ kind: 'session' });
    expect(environmentKeyTarget('DELETE', '/v1/sessions/sesn_1')).toBeNull();
    expect(environmentKeyTarget('POST', '/v1/sessions/sesn_1')).toBeNull();
    expect(environmentKeyTarget('GET', '/v1/agents')).toBeNull();
    expect(environmentKeyTarget('GET', '/v1/environments/env_1')).toBeNull();
    expect(ENVIRONMENT_KEY_EVENTS.has('user.message')).toBe(false);
  });

  it('send tool results to their own sessions, nothing else', async () => {
    const owner = (sessionId: string): Promise<string | null> =>
      Promise.resolve(sessionId === 'sesn_1' ? 'env_1' : 'env_2');
    const post = (sessionId: string, type: string) => ({
      method: 'POST',
      url: `/v1/sessions/${sessionId}/events`,
      body: { events: [{ type }] },
    });
    await expect(
      requireEnvironmentKeyScope('env_1', post('sesn_1', 'user.tool_result'), owner),
    ).resolves.toBeUndefined();
    await expect(requireEnvironmentKeyScope('env_1', post('sesn_1', 'user.message'), owner)).rejects.toThrow(
      /sends only tool results/,
    );
    await expect(requireEnvironmentKeyScope('env_1', post('sesn_2', 'user.tool_result'), owner)).rejects.toThrow(
      /does not run in environment env_1/,
    );
    await expect(
      requireEnvironmentKeyScope('env_1', { method: 'GET', url: '/v1/agents' }, owner),
    ).rejects.toMatchObject({ status: 403 });
  });
});

describe('a self-hosted tool result as the model reads it', () => {
  it('keeps text, names media, and marks an empty result', () => {
    expect(
      toolResultText([
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ]),
    ).toBe('a\nb');
    expect(toolResultText([])).toBe('(no output)');
    expect(
      toolResultText([
        {
          type: 'search_result',
          source: 'https://example.test',
          title: 'Example',
          content: [{ type: 'text', text: 'hit' }],
          citations: { enabled: false },
        },
        { type: 'image', source: { type: 'url', url: 'https://example.test/a.png' } },
      ]),
    ).toBe('Example (https://example.test)\nhit\n[an image, which Keel does not pass to the model from a tool result]');
  });
});
