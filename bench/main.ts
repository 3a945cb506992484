import { measureConcurrentSessions } from './concurrent-sessions';
import { measureEventDelivery } from './event-delivery';
import { harnessOverheadRows } from './harness-overhead';
import { longSessionRows, measureLongSession } from './long-session';
import { ms, percentile } from './percentiles';
import { productionTopologyRows } from './production-topology';
import { sandboxLifecycleRows } from './sandbox-lifecycle';
import { measureTimeToFirstToken } from './time-to-first-token';
import { throughputRows } from './throughput-rows';
import { measureToolStepOverhead } from './tool-step-overhead';

const SESSIONS = 50;

/**
 * `npm run bench`: runs every benchmark against real Temporal and Docker with an instant model, prints a table.
 * `npm run bench -- --only=long` runs only the long session; `--long-steps=N` changes its 10,000 steps.
 * `--only=throughput` runs only the throughput rows (200 sessions × 10 steps on keel up, sessions.list of 100).
 * `--only=topology` runs only the production topology (two workers and two servers on PostgreSQL and SeaweedFS).
 * `--only=overhead` runs only the harness overhead rows (Keel's tool step against a do-it-yourself loop).
 * `--only=sandbox` runs only the sandbox rows (first tool call cold and from the warm pool, idle containers).
 */
async function main(): Promise<void> {
  const rows: string[][] = [];
  const argumentsGiven = process.argv.slice(2);
  const only = argumentsGiven.find((argument) => argument.startsWith('--only='))?.slice('--only='.length);
  const longSteps = Number(
    argumentsGiven.find((argument) => argument.startsWith('--long-steps='))?.slice('--long-steps='.length) ?? 10_000,
  );
  if (only === 'long') {
    console.log(`long session: ${longSteps} tool steps in one turn…`);
    rows.push(...longSessionRows(await measureLongSession(longSteps)));
    printRows(rows);
    return;
  }
  if (only === 'topology') {
    rows.push(...(await productionTopologyRows()));
    printRows(rows);
    return;
  }
  if (only === 'throughput') {
    rows.push(...(await throughputRows()));
    printRows(rows);
    return;
  }
  if (only === 'sandbox') {
    rows.push(...(await sandboxLifecycleRows()));
    printRows(rows);
    return;
  }
  if (only === 'overhead') {
    rows.push(...(await harnessOverheadRows()));
    printRows(rows);
    return;
  }
  console.log(`time to first token: ${SESSIONS} lazy sessions…`);
  const lazy = await measureTimeToFirstToken('lazy', SESSIONS);
  console.log(`time to first token: ${SESSIONS} eager sessions…`);
  const eager = await measureTimeToFirstToken('eager', SESSIONS);
  const ratio = percentile(lazy, 50) / percentile(eager, 50);
  rows.push(['TTFT, lazy sandbox', ms(percentile(lazy, 50)), ms(percentile(lazy, 95)), `n=${lazy.length}`]);
  rows.push(['TTFT, eager sandbox', ms(percentile(eager, 50)), ms(percentile(eager, 95)), `n=${eager.length}`]);
  rows.push([
    'TTFT lazy / eager (p50)',
    ratio.toFixed(2),
    (percentile(lazy, 95) / percentile(eager, 95)).toFixed(2),
    `target p50 ≤ 0.40: ${ratio <= 0.4 ? 'met' : 'MISSED'}`,
  ]);

  console.log('tool step overhead: 40 steps…');
  const steps = await measureToolStepOverhead(40);
  const added50 = percentile(steps.keel, 50) - percentile(steps.raw, 50);
  const added95 = percentile(steps.keel, 95) - percentile(steps.raw, 95);
  rows.push([
    'tool step, Keel (tool_use → tool_result)',
    ms(percentile(steps.keel, 50)),
    ms(percentile(steps.keel, 95)),
    `n=${steps.keel.length}`,
  ]);
  rows.push([
    'tool step, raw docker exec',
    ms(percentile(steps.raw, 50)),
    ms(percentile(steps.raw, 95)),
    `n=${steps.raw.length}`,
  ]);
  rows.push([
    'tool step, Keel minus raw',
    ms(added50),
    ms(added95),
    `target p50 ≤ 25 ms: ${added50 <= 25 ? 'met' : 'MISSED'}`,
  ]);

  rows.push(...(await harnessOverheadRows()));

  console.log(`concurrency: ${SESSIONS} sessions × 5 tool steps…`);
  const load = await measureConcurrentSessions(SESSIONS, 5);
  const rssMb = load.peakWorkerRssBytes / 1024 / 1024;
  rows.push([`${load.sessions} sessions × ${load.stepsPerSession} steps, wall time`, ms(load.wallMs), '', '']);
  rows.push(['  errors', String(load.errors), '', `target 0: ${load.errors === 0 ? 'met' : 'MISSED'}`]);
  rows.push(['  peak worker RSS', `${rssMb.toFixed(0)} MB`, '', `target < 400 MB: ${rssMb < 400 ? 'met' : 'MISSED'}`]);

  for (const subscribers of [1, 100]) {
    console.log(`event delivery: ${subscribers} SSE subscriber(s) on one session…`);
    const delivery = await measureEventDelivery(subscribers, 10);
    const p50 = percentile(delivery.latenciesMs, 50);
    const p95 = percentile(delivery.latenciesMs, 95);
    rows.push([
      `event delivery, ${subscribers} subscriber(s) (Workflow → SSE client)`,
      ms(p50),
      ms(p95),
      `n=${delivery.latenciesMs.length} of ${delivery.events * subscribers}, short streams ${delivery.shortStreams}; turn ${ms(delivery.turnMs)}; target p50 < 50, p95 < 150: ${p50 < 50 && p95 < 150 ? 'met' : 'MISSED'}`,
    ]);
  }

  rows.push(...(await throughputRows()));
  rows.push(...(await sandboxLifecycleRows()));
  rows.push(...(await productionTopologyRows()));

  console.log(`long session: ${longSteps} tool steps in one turn…`);
  rows.push(...longSessionRows(await measureLongSession(longSteps)));
  printRows(rows);
}

function printRows(rows: string[][]): void {
  console.log('\n| measure | p50 / value | p95 | note |\n|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
