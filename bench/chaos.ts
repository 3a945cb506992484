import { randomInt } from 'node:crypto';
import { parseFaultKinds } from '../test/support/chaos-faults';
import { chaosReportRows, chaosTargetsMet } from '../test/support/chaos-report';
import { runChaos } from '../test/support/chaos-run';

const USAGE = `npm run chaos -- [--sessions=100] [--steps=20] [--seed=N] [--faults=worker,server,temporal,container]
  [--min-fault-ms=3000] [--max-fault-ms=10000] [--sleep=0.2] [--workers=2] [--servers=2] [--timeout-s=1800]
The faults: worker, server, temporal, container, docker (the Docker daemon restart: off unless named, and only on a
machine where nothing else uses the Docker engine).`;

/** The value of `--name=value` among the arguments, or `fallback`. */
function option(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  return process.argv.find((argument) => argument.startsWith(prefix))?.slice(prefix.length) ?? fallback;
}

/** A numeric option; fails naming the option when its value is not a number. */
function numberOption(name: string, fallback: number): number {
  const value = Number(option(name, String(fallback)));
  if (!Number.isFinite(value)) throw new Error(`--${name} takes a number\n${USAGE}`);
  return value;
}

/**
 * `npm run chaos`: 100 sessions × 20 tool steps on the production topology while seeded faults hit its processes;
 * prints a table of what completed, what was lost or repeated, and the faults injected. Exits 1 when a target is
 * missed (a run that injected no fault misses one: it proved nothing).
 */
async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  const report = await runChaos({
    sessions: numberOption('sessions', 100),
    steps: numberOption('steps', 20),
    seed: numberOption('seed', randomInt(1, 2 ** 31)),
    faults: parseFaultKinds(option('faults', 'worker,server,temporal,container')),
    minFaultMs: numberOption('min-fault-ms', 3_000),
    maxFaultMs: numberOption('max-fault-ms', 10_000),
    sleepSeconds: numberOption('sleep', 0.2),
    workers: numberOption('workers', 2),
    servers: numberOption('servers', 2),
    timeoutMs: numberOption('timeout-s', 1_800) * 1000,
    log: (line) => console.log(line),
  });
  for (const note of report.audits.flatMap((audit) => audit.notes))
    console.log(`side effect not exactly once: ${note}`);
  console.log('\n| measure | value | target |\n|---|---|---|');
  for (const row of chaosReportRows(report)) console.log(`| ${row.join(' | ')} |`);
  if (!chaosTargetsMet(report)) process.exitCode = 1;
}

main().then(
  () => process.exit(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
