import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsStreamSessionEvents } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

describe('the approval loop as the SDK documents it', () => {
  it('works over three turns of one session: each turn approves its own call and ends at its own idle', async () => {
    const agent = await client.beta.agents.create({
      name: 'asks first',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } }],
    });
    const environment = await client.beta.environments.create({ name: 'approvals', config: { type: 'cloud' } });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    const seen = new Set<string>();
    for (const word of ['one', 'two', 'three']) {
      harness.model.enqueue(
        { kind: 'tool_use', name: 'bash', input: { command: `echo turn-${word}` } },
        { kind: 'text', text: `done ${word}` },
      );
      // Open the stream, send the message, then answer every requires_action until the turn ends.
      const stream = await client.beta.sessions.events.stream(session.id);
      await client.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.message', content: [{ type: 'text', text: `run ${word}` }] }],
      });
      const items: BetaManagedAgentsStreamSessionEvents[] = [];
      for await (const event of stream) {
        items.push(event);
        if (event.type !== 'session.status_idle') continue;
        if (event.stop_reason.type !== 'requires_action') break;
        for (const toolUseId of event.stop_reason.event_ids) {
          await client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.tool_confirmation', tool_use_id: toolUseId, result: 'allow' }],
          });
        }
      }
      stream.controller.abort();
      const ids = items.map((item) => ('id' in item ? item.id : ''));
      for (const id of ids) {
        expect(seen.has(id), `event ${id} seen by an earlier turn`).toBe(false);
        seen.add(id);
      }
      const result = items.find((item) => item.type === 'agent.tool_result');
      expect(JSON.stringify(result)).toContain(`turn-${word}`);
      expect(items.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
      expect(JSON.stringify(items)).toContain(`done ${word}`);
    }
    await client.beta.sessions.delete(session.id);
  });
});
