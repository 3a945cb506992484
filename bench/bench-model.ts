import type { RecordedRequest, ScriptedReply } from '../test/scripted-model-server';

/**
 * The benchmark's model: answers at once. A message that says `steps:N` gets N bash tool calls (`echo step`), one
 * per model call, then a text reply; any other message gets a text reply.
 */
export function benchReply(request: RecordedRequest): ScriptedReply {
  const messages = request.body.messages;
  const firstUser = JSON.stringify(messages[0]?.content ?? '');
  const wanted = Number(/steps:(\d+)/.exec(firstUser)?.[1] ?? 0);
  const done = messages.filter((message) => message.role === 'assistant').length;
  if (done < wanted) return { kind: 'tool_use', name: 'bash', input: { command: 'echo step' } };
  return { kind: 'text', text: 'Done: every step ran.' };
}
