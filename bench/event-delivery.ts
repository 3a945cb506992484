import { startBenchStack } from './bench-stack';

/** Delivery latencies of one run, and how long the turn took. */
export interface DeliveryResult {
  latenciesMs: number[];
  turnMs: number;
  events: number;
  /** Streams that ended before they had every event of the turn (expected: none). */
  shortStreams: number;
}

/**
 * Event delivery latency: from the moment the Workflow produced an event (its `processed_at`, the start of the
 * Workflow task that appended it, on this machine's clock) to its arrival, parsed, at each of `subscribers` SSE
 * clients of one session running `steps` tool steps. Every event at every client counts, whichever path brought
 * it (the live bus, or the log when the bus missed it). Also times the turn, to see whether subscribers slow it.
 */
export async function measureEventDelivery(subscribers: number, steps: number): Promise<DeliveryResult> {
  const bench = await startBenchStack({});
  try {
    const session = await bench.client.createSession({ title: `delivery x${subscribers}` });
    const produced = new Map<string, number>();
    const controller = new AbortController();
    const arrivals: Array<Map<string, number>> = [];
    const streams = await Promise.all(
      Array.from({ length: subscribers }, () => bench.client.openEvents(session.id, { signal: controller.signal })),
    );
    const readers = streams.map(async (stream) => {
      const arrived = new Map<string, number>();
      arrivals.push(arrived);
      for await (const item of stream) {
        if (item.kind !== 'event') continue;
        arrived.set(item.event.id, Date.now());
        produced.set(item.event.id, Date.parse(item.event.processed_at ?? ''));
        if (item.event.type === 'session.status_idle') return;
      }
    });
    const started = performance.now();
    await bench.client.sendMessage(session.id, `steps:${steps}`);
    await Promise.all(readers);
    const turnMs = performance.now() - started;
    controller.abort();
    const latenciesMs = arrivals.flatMap((arrived) =>
      [...arrived].flatMap(([id, at]) => {
        const producedAt = produced.get(id);
        return producedAt === undefined || Number.isNaN(producedAt) ? [] : [at - producedAt];
      }),
    );
    await bench.client.endSession(session.id);
    const shortStreams = arrivals.filter((arrived) => arrived.size < produced.size).length;
    return { latenciesMs, turnMs, events: produced.size, shortStreams };
  } finally {
    await bench.stop();
  }
}
