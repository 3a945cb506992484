import { untilIdle } from '../client';
import type { KeelClient, StreamItem } from '../client';
import type { SessionEvent } from '../common/events';

/** Where `keel run` writes, injectable for tests. */
export interface RunOutput {
  write(text: string): void;
}

/**
 * `keel run "<prompt>"`: creates a session on the running stack, sends the prompt, prints the agent's text as it
 * streams and each tool call and result as they happen; resolves with the exit code (0 when the turn ended well).
 */
export async function run(client: KeelClient, prompt: string, output: RunOutput): Promise<number> {
  const session = await client.createSession({ title: prompt.slice(0, 120) });
  output.write(`session ${session.id}\n`);
  const controller = new AbortController();
  const stream = await client.openEvents(session.id, {
    after: session.stats.event_count - 1,
    textDeltas: true,
    signal: controller.signal,
  });
  const message = await client.sendMessage(session.id, prompt);
  const streamed = new Map<string, string>();
  let failed = false;
  const onItem = (item: StreamItem): void => {
    if (item.kind === 'text_delta') {
      streamed.set(item.eventId, (streamed.get(item.eventId) ?? '') + item.text);
      output.write(item.text);
      return;
    }
    if (item.event.type === 'session.error' && item.event.error.retry_status.type !== 'retrying') failed = true;
    const text = describe(item.event, streamed);
    if (text !== null) output.write(text);
  };
  try {
    const idle = await untilIdle(stream, message.id, onItem);
    const ok = !failed && idle.type === 'session.status_idle' && idle.stop_reason.type === 'end_turn';
    return ok ? 0 : 1;
  } finally {
    controller.abort();
  }
}

/** The text to print for a logged event; an `agent.message` prints what its deltas did not already print. */
function describe(event: SessionEvent, streamed: Map<string, string>): string | null {
  switch (event.type) {
    case 'agent.message': {
      const text = event.content.map((block) => ('text' in block ? block.text : '')).join('');
      const printed = streamed.get(event.id) ?? '';
      return text.startsWith(printed) ? `${text.slice(printed.length)}\n` : `\n${text}\n`;
    }
    case 'agent.tool_use':
      return `[${event.name}] ${JSON.stringify(event.input)}\n`;
    case 'agent.tool_result': {
      const text = (event.content ?? []).map((block) => ('text' in block ? block.text : '')).join('');
      return `${text}${text.endsWith('\n') ? '' : '\n'}${event.is_error ? '[tool error]\n' : ''}`;
    }
    case 'session.error':
      return `[error] ${event.error.type}: ${event.error.message} (${event.error.retry_status.type})\n`;
    case 'session.status_rescheduled':
      return '[rescheduled: retrying the model call]\n';
    case 'session.status_idle':
      return event.stop_reason.type === 'end_turn' ? null : `[idle: ${event.stop_reason.type}]\n`;
    default:
      return null;
  }
}
