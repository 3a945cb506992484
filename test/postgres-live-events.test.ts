import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../common/events';
import type { LiveEvent } from '../common/live-events';
import { PostgresLiveEvents } from '../storage/postgres-live-events';
import { startPostgres } from './support/postgres';
import type { PrivatePostgres } from './support/postgres';

let postgres: PrivatePostgres;
let url: string;

beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase();
}, 60_000);

afterAll(async () => {
  await postgres?.stop();
});

function message(position: number, text: string): LoggedEvent {
  return {
    position,
    event: {
      id: `sevt_${position}`,
      type: 'agent.message',
      content: [{ type: 'text', text }],
      processed_at: new Date().toISOString(),
    },
  };
}

describe('live events across processes through PostgreSQL LISTEN/NOTIFY', () => {
  it('a worker’s events and deltas reach every listening server, in order, whole, and only their session’s', async () => {
    const worker = await PostgresLiveEvents.open({ url, listen: false });
    const servers = await Promise.all([1, 2].map(() => PostgresLiveEvents.open({ url, listen: true })));
    try {
      const received: LiveEvent[][] = servers.map(() => []);
      servers.forEach((server, index) => server.subscribe('sesn_a', (event) => received[index]?.push(event)));
      const other: LiveEvent[] = [];
      servers[0]?.subscribe('sesn_b', (event) => other.push(event));

      const longText = 'ü'.repeat(2_500) + '\u0000'.repeat(800);
      const hello = message(0, 'hello');
      worker.publish({ kind: 'appended', sessionId: 'sesn_a', events: [hello] });
      for (let index = 0; index < 200; index += 1) {
        worker.publish({ kind: 'text_delta', sessionId: 'sesn_a', eventId: 'sevt_1', text: `${index},` });
      }
      worker.publish({ kind: 'text_delta', sessionId: 'sesn_a', eventId: 'sevt_1', text: longText });
      worker.publish({ kind: 'appended', sessionId: 'sesn_a', events: [message(1, 'x'.repeat(20_000))] });
      worker.publish({ kind: 'thinking_started', sessionId: 'sesn_a', eventId: 'sevt_2' });

      for (const events of received) {
        await expect.poll(() => events.at(-1)?.kind).toBe('thinking_started');
        expect(events[0]).toEqual({ kind: 'appended', sessionId: 'sesn_a', events: [hello] });
        const deltas = events.filter((event) => event.kind === 'text_delta').map((event) => event.text);
        const expected = Array.from({ length: 200 }, (_, index) => `${index},`).join('') + longText;
        expect(deltas.join('')).toBe(expected);
        // Too large for one notification: the servers are told to read the log instead.
        expect(events.at(-2)).toEqual({ kind: 'log_grew', sessionId: 'sesn_a' });
      }
      expect(other).toEqual([]);
    } finally {
      await worker.close();
      for (const server of servers) await server.close();
    }
  });

  it('a server whose listening connection is cut reconnects, tells its streams to re-read, and keeps receiving', async () => {
    const worker = await PostgresLiveEvents.open({ url, listen: false });
    const server = await PostgresLiveEvents.open({ url, listen: true });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const received: LiveEvent[] = [];
      server.subscribe('sesn_c', (event) => received.push(event));
      let resumes = 0;
      server.onResume(() => (resumes += 1));
      worker.publish({ kind: 'thinking_started', sessionId: 'sesn_c', eventId: 'before' });
      await expect.poll(() => received.length).toBe(1);

      const cut = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`,
      );
      expect(cut.rowCount).toBe(1);
      await expect.poll(() => resumes, { timeout: 10_000 }).toBe(1);
      worker.publish({ kind: 'thinking_started', sessionId: 'sesn_c', eventId: 'after' });
      await expect
        .poll(() => received.map((event) => (event.kind === 'thinking_started' ? event.eventId : '')))
        .toEqual(['before', 'after']);
    } finally {
      await admin.end();
      await worker.close();
      await server.close();
    }
  });
});
