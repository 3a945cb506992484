import type { KeelClient } from '../client';
import type { StreamItem } from '../client';
import type { SessionEvent } from '../common/events';

/** Output streams of `keel run`, injectable for tests. */
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
  const before = session.stats.event_count - 1;
  const message = await client.sendMessage(session.id, prompt);
  const streamed = new Set<string>();
  let failed = false;
  const idle = await client.waitForIdle(session.id, message.id, {
    after: before,
    textDeltas: true,
    onItem: (item: StreamItem) => {
      if (item.kind === 'text_delta') {
        streamed.add(item.eventId);
        output.write(item.text);
        return;
      }
      const text = describe(item.event, streamed);
      if (item.event.type === 'session.error' && item.event.error.retry_status.type !== 'retrying') failed = true;
      if (text !== null) output.write(text);
    },
  });
  const ok = !failed && idle.type === 'session.status_idle' && idle.stop_reason.type === 'end_turn';
  return ok ? 0 : 1;
}

function describe(event: SessionEvent, streamed: Set<string>): string | null {
  switch (event.type) {
    case 'agent.message':
      return streamed.has(event.id)
        ? '\n'
        : `${event.content.map((block) => ('text' in block ? block.text : '')).join('')}\n`;
    case 'agent.tool_use':
      return `\n[${event.name}] ${JSON.stringify(event.input)}\n`;
    case 'agent.tool_result': {
      const text = (event.content ?? []).map((block) => ('text' in block ? block.text : '')).join('');
      return `${text}${text.endsWith('\n') ? '' : '\n'}${event.is_error ? '[tool error]\n' : ''}`;
    }
    case 'session.error':
      return `\n[error] ${event.error.type}: ${event.error.message} (${event.error.retry_status.type})\n`;
    case 'session.status_rescheduled':
      return '[rescheduled: retrying the model call]\n';
    case 'session.status_idle':
      return event.stop_reason.type === 'end_turn' ? null : `[idle: ${event.stop_reason.type}]\n`;
    default:
      return null;
  }
}
