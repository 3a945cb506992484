import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeySha256, newApiKey } from '../server/api-keys';
import { requestClass } from '../server/rate-limits';
import { rejection, sdkClient } from './support/sdk';
import { startTestStack, TEST_API_KEY } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { DEFAULT_WORKSPACE_ID } from '../common/workspace';

describe('requestClass', () => {
  it('counts GETs as reads, POSTs to a collection as creates, and nothing else', () => {
    expect(requestClass('GET', '/v1/sessions?limit=2')).toBe('read');
    expect(requestClass('GET', '/health')).toBeNull();
    expect(requestClass('POST', '/v1/sessions')).toBe('create');
    expect(requestClass('POST', '/v1/vaults/vlt_1/credentials')).toBe('create');
    expect(requestClass('POST', '/v1/sessions/sesn_1/events')).toBeNull();
    expect(requestClass('POST', '/v1/agents/agent_1')).toBeNull();
    expect(requestClass('DELETE', '/v1/sessions/sesn_1')).toBeNull();
  });
});

describe('per-key rate limits', () => {
  let harness: TestStack;
  beforeAll(async () => {
    harness = await startTestStack({
      environment: { KEEL_RATE_LIMIT_READ_PER_MINUTE: '3', KEEL_RATE_LIMIT_CREATE_PER_MINUTE: '2' },
    });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('answers 429 rate_limit_error with retry-after past the limit, per key, and leaves the rest alone', async () => {
    const client = sdkClient(harness.stack.apiUrl);
    for (let index = 0; index < 3; index++) await client.beta.agents.list();
    const limited = await rejection(client.beta.agents.list());
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect(limited.status).toBe(429);
    expect(limited.message).toContain('at most 3 read requests per minute');
    expect(Number(limited.headers?.get('retry-after'))).toBeGreaterThan(0);
    const raw = await fetch(`${harness.stack.apiUrl}/v1/agents`, { headers: { 'x-api-key': TEST_API_KEY } });
    expect(raw.status).toBe(429);
    expect(await raw.json()).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: expect.stringContaining('retry after') },
    });

    // Creates have their own budget; a refused create creates nothing.
    await client.beta.environments.create({ name: 'one', config: { type: 'cloud' } });
    await client.beta.environments.create({ name: 'two', config: { type: 'cloud' } });
    const refused = await rejection(client.beta.environments.create({ name: 'three', config: { type: 'cloud' } }));
    expect(refused.status).toBe(429);
    // Neither a read nor a create: updates and health are not limited.
    const health = await fetch(`${harness.stack.apiUrl}/health`);
    expect(health.status).not.toBe(429);

    // Another key has its own budget: it lists, and sees two environments, not three.
    const other = newApiKey();
    await harness.stack.store.apiKeys.insert({
      id: 'key_ratelimit2',
      keySha256: apiKeySha256(other),
      name: 'second',
      createdAt: new Date().toISOString(),
      revokedAt: null,
      environmentId: null,
      workspaceId: DEFAULT_WORKSPACE_ID,
    });
    const second = sdkClient(harness.stack.apiUrl, other);
    const names = (await second.beta.environments.list()).data.map((environment) => environment.name);
    expect(names.filter((name) => ['one', 'two', 'three'].includes(name)).sort()).toEqual(['one', 'two']);
    // A wrong key is refused before it is counted: 401, never 429.
    const wrong = await rejection(sdkClient(harness.stack.apiUrl, 'not-a-key').beta.agents.list());
    expect(wrong.status).toBe(401);
  });
});
