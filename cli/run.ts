import { untilIdle } from '../client';
import type { KeelClient, StreamItem } from '../client';
import { describeEvent } from './describe-event';

/** Where `keel run` writes, injectable for tests. */
export interface RunOutput {
  write(text: string): void;
}

/**
 * `keel run "<prompt>"`: creates a session on the running stack (or, with `sessionId`, continues that one), sends the
 * prompt, prints the agent's text as it streams and each tool call and result as they happen; resolves with the exit
 * code (0 when the turn ended well).
 */
export async function run(
  client: KeelClient,
  prompt: string,
  output: RunOutput,
  options: { sessionId?: string } = {},
): Promise<number> {
  const session =
    options.sessionId === undefined
      ? await client.createSession({ title: prompt.slice(0, 120) })
      : await client.getSession(options.sessionId);
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
    const text = describeEvent(item.event, streamed);
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
