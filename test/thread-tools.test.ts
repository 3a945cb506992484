import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../common/events';
import { lastAgentText } from '../workflows/thread-replies';
import {
  isThreadToolName,
  parseThreadToolInput,
  threadReplyText,
  threadToolDefinitions,
} from '../workflows/thread-tools';
import { toolOffer, waitsForClient } from '../workflows/tool-routing';

const reviewer = ['reviewer', 'tester'];

describe('delegation tools of a coordinator (pure rules)', () => {
  it('offers spawn_agent with the roster as an enum, and send_to_thread', () => {
    const [spawn, send] = threadToolDefinitions(reviewer);
    expect(spawn?.name).toBe('spawn_agent');
    expect(spawn?.input_schema).toMatchObject({
      properties: { agent_name: { enum: ['reviewer', 'tester'] } },
      required: ['agent_name', 'message'],
    });
    expect(send?.name).toBe('send_to_thread');
    expect(isThreadToolName('spawn_agent')).toBe(true);
    expect(isThreadToolName('bash')).toBe(false);
  });

  it('checks a call: a known agent and a message; an unknown agent or an empty message is an error for the model', () => {
    expect(parseThreadToolInput('spawn_agent', { agent_name: 'tester', message: 'run the tests' }, reviewer)).toEqual({
      kind: 'spawn',
      agentName: 'tester',
      text: 'run the tests',
    });
    const unknown = parseThreadToolInput('spawn_agent', { agent_name: 'writer', message: 'x' }, reviewer);
    expect(unknown).toEqual({ kind: 'invalid', message: expect.stringContaining('"reviewer", "tester"') as unknown });
    expect(parseThreadToolInput('spawn_agent', { agent_name: 'tester', message: '  ' }, reviewer)).toMatchObject({
      kind: 'invalid',
      message: 'spawn_agent needs a non-empty string "message".',
    });
    expect(parseThreadToolInput('send_to_thread', { session_thread_id: 'sthr_1', message: 'more' }, reviewer)).toEqual({
      kind: 'send',
      threadId: 'sthr_1',
      text: 'more',
    });
    expect(parseThreadToolInput('send_to_thread', { message: 'more' }, reviewer)).toMatchObject({ kind: 'invalid' });
  });

  it('routes the tools only for a coordinator, and never waits for the client on them', () => {
    const agent = { id: null, version: 1, name: 'lead', model: 'm', system: null, maxTokens: 1000, tools: ['bash'] };
    expect(toolOffer(agent, new Map()).routes.has('spawn_agent')).toBe(false);
    const offer = toolOffer(agent, new Map(), reviewer);
    expect(offer.routes.get('spawn_agent')).toEqual({ kind: 'thread', tool: 'spawn_agent' });
    expect(offer.extraTools.map((tool) => tool.name)).toEqual(['spawn_agent', 'send_to_thread']);
    expect(waitsForClient(offer.routes.get('send_to_thread'))).toBe(false);
  });

  it("a thread's reply is its turn's last agent.message, and the coordinator reads who sent it", () => {
    const message = (id: string, text: string): SessionEvent => ({
      type: 'agent.message',
      id,
      processed_at: '',
      content: [{ type: 'text', text }],
    });
    const events = [message('a', 'first turn'), { type: 'session.status_idle' } as SessionEvent, message('b', 'done')];
    expect(lastAgentText(events, 2)).toBe('done');
    expect(lastAgentText(events.slice(0, 2), 1)).toBeNull();
    expect(threadReplyText('sthr_x', 'reviewer', 'done')).toBe('Message from thread sthr_x (agent reviewer):\ndone');
  });
});
