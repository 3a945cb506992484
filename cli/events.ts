import type { KeelClient } from '../client';
import { followSession } from './follow-session';

/**
 * `keel events [--follow] <session>`: prints the session's events, one JSON object a line, in log order. With
 * `follow`, it goes on printing them live as they are logged (reconnecting when the stream drops, never printing an
 * event twice) until the session terminates or `signal` aborts; resolves with the exit code. `print` gets the events
 * and `note` the lines about the connection (stderr), so stdout stays one JSON object a line.
 */
export async function events(
  client: KeelClient,
  sessionId: string,
  options: { follow: boolean; signal?: AbortSignal },
  print: (line: string) => void,
  note: (line: string) => void = () => undefined,
): Promise<number> {
  if (!options.follow) {
    let page: string | undefined;
    do {
      const result = await client.listEvents(sessionId, { limit: 500, ...(page ? { page } : {}) });
      for (const event of result.data) print(JSON.stringify(event));
      page = result.next_page ?? undefined;
    } while (page !== undefined);
    return 0;
  }
  const signal = options.signal ?? new AbortController().signal;
  const following = followSession(client, sessionId, {
    signal,
    onReconnect: (reason) => note(`keel events: the stream dropped (${describeReason(reason)}); reconnecting`),
    onReconnected: () => note('keel events: reconnected'),
  });
  for await (const item of following) {
    if (item.kind === 'event') print(JSON.stringify(item.event));
  }
  return 0;
}

/** The message of what made the stream drop. */
function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
