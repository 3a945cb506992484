import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let searxng: Server;
const queries: string[] = [];

/** A loopback stand-in for a SearXNG instance: its JSON API's shape (`/search?q=…&format=json`). */
beforeAll(async () => {
  searxng = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://searxng');
    if (url.pathname !== '/search' || url.searchParams.get('format') !== 'json') {
      response.writeHead(404).end();
      return;
    }
    queries.push(url.searchParams.get('q') ?? '');
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        query: url.searchParams.get('q'),
        results: [
          { title: 'Temporal docs', url: 'https://docs.temporal.io/workflows', content: 'Durable execution.' },
          { title: 'Blocked page', url: 'https://ads.blocked.example/x', content: 'should be dropped' },
          { title: 'Keel', url: 'https://keel.example/readme', content: 'Agents on Temporal.' },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => searxng.listen(0, '127.0.0.1', resolve));
  const port = (searxng.address() as AddressInfo).port;
  harness = await startTestStack({ environment: { KEEL_WEB_SEARCH_SEARXNG_URL: `http://127.0.0.1:${port}/` } });
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
  await new Promise((resolve) => searxng?.close(resolve));
});

describe('web_search through a pluggable provider (SearXNG)', () => {
  it('is offered when the worker has a provider, searches from the worker, and drops blocked_domains', async () => {
    const environment = await client.beta.environments.create({ name: 'search env', config: { type: 'cloud' } });
    const agent = await client.beta.agents.create({
      name: 'searcher',
      model: 'scripted-model',
      tools: [
        {
          type: 'agent_toolset_20260401',
          configs: [{ name: 'web_search', blocked_domains: ['blocked.example'] }],
        },
      ],
    });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'web_search', input: { query: 'durable agents' } },
      { kind: 'text', text: 'Found it.' },
    );
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'search' }] }],
    });
    let events: BetaManagedAgentsSessionEvent[] = [];
    for (let attempt = 0; attempt < 300; attempt++) {
      events = [];
      for await (const event of client.beta.sessions.events.list(session.id)) events.push(event);
      if (events.some((event) => event.type === 'session.status_idle')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const offered = ((harness.model.requests[0]?.body.tools ?? []) as Array<{ name: string }>).map((tool) => tool.name);
    expect(offered).toContain('web_search');
    expect(queries).toEqual(['durable agents']);
    const result = events.find((event) => event.type === 'agent.tool_result');
    expect(result).toMatchObject({ is_error: false });
    const text = JSON.stringify(result);
    expect(text).toContain('https://docs.temporal.io/workflows');
    expect(text).toContain('Agents on Temporal.');
    expect(text).not.toContain('blocked.example');
    await client.beta.sessions.delete(session.id);
  });
});
