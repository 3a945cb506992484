import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { SANDBOX_LABELS } from '../../common/sandbox';
import { PROJECT_ROOT } from '../../common/config';
import type { ChaosTopology } from './chaos-topology';
import { randomBetween } from './seeded-random';
import type { SeededRandom } from './seeded-random';

/** The faults the chaos driver can inject. */
export const FAULT_KINDS = ['worker', 'server', 'temporal', 'container', 'docker'] as const;
/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Reads `--faults=a,b` into fault kinds; fails naming an unknown one. */
export function parseFaultKinds(text: string): FaultKind[] {
  const kinds = text.split(',').filter((kind) => kind !== '');
  for (const kind of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`unknown fault "${kind}" (known: ${FAULT_KINDS.join(', ')})`);
    }
  }
  return kinds as FaultKind[];
}

/** A running fault driver: `stop` ends it after the fault in progress (if any) is repaired. */
export interface FaultDriver {
  /** Faults injected so far, by kind. */
  injected: Record<FaultKind, number>;
  stop(): Promise<void>;
}

const DOCKER_PID_FILE = '/var/run/docker.pid';
const run = promisify(execFile);

/** SIGTERMs the Docker daemon, waits until it exited, and starts it again as `npm run setup` does. */
async function restartDockerDaemon(): Promise<void> {
  const pid = Number(readFileSync(DOCKER_PID_FILE, 'utf8').trim());
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    if (Date.now() > deadline) throw new Error(`dockerd (pid ${pid}) did not stop within 60 s`);
    await new Promise((wake) => setTimeout(wake, 100));
  }
  await run('bash', ['scripts/setup/docker-engine.sh'], { cwd: PROJECT_ROOT });
}

/**
 * Starts injecting faults into `topology`: every `minMs`–`maxMs` (drawn from `random`, so a seed reproduces the
 * schedule) one of `kinds`, drawn from `random` too: SIGKILL a worker or a server and restart it, SIGKILL the
 * Temporal dev server and restart it on its port and file, `docker kill` a running sandbox of `sessionIds`, or
 * restart the Docker daemon. Each fault is repaired before the next is drawn; `log` receives a line per fault.
 */
export function startFaultDriver(options: {
  topology: ChaosTopology;
  random: SeededRandom;
  kinds: FaultKind[];
  minMs: number;
  maxMs: number;
  sessionIds: () => string[];
  log: (line: string) => void;
}): FaultDriver {
  const { topology, random } = options;
  const docker = new Docker();
  const injected = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  let stopping = false;
  const started = Date.now();
  const pick = <T>(items: T[], draw = random()): T | undefined => items[Math.floor(draw * items.length)];
  // Each fault draws three numbers (its pause, its kind, its victim), whatever the kind: a seed gives the same pauses
  // and kinds on every run; the victim among the sandboxes depends on which are running then.
  const inject = async (kind: FaultKind, draw: number): Promise<string | undefined> => {
    if (kind === 'worker' || kind === 'server') {
      const target = pick(kind === 'worker' ? topology.workers : topology.servers, draw);
      if (target === undefined) return undefined;
      await target.kill();
      await target.restart();
      return `SIGKILL ${target.name}, restarted`;
    }
    if (kind === 'temporal') {
      await topology.restartTemporal();
      return `SIGKILL the Temporal dev server, restarted on ${topology.temporalAddress}`;
    }
    if (kind === 'container') {
      const ours = new Set(options.sessionIds());
      const running = (await docker.listContainers({ filters: { label: [SANDBOX_LABELS.session] } })).filter(
        (container) => ours.has(container.Labels[SANDBOX_LABELS.session] ?? ''),
      );
      const victim = pick(
        running.sort((a, b) => a.Id.localeCompare(b.Id)),
        draw,
      );
      if (victim === undefined) return undefined;
      await docker
        .getContainer(victim.Id)
        .kill()
        .catch(() => undefined);
      return `docker kill the sandbox of ${victim.Labels[SANDBOX_LABELS.session]}`;
    }
    await restartDockerDaemon();
    return 'restarted the Docker daemon';
  };
  // A restart that failed leaves its process down: start it again before the next fault, and at the end.
  const heal = async (): Promise<void> => {
    for (const item of [...topology.servers, ...topology.workers]) {
      if (item.child.exitCode === null && item.child.signalCode === null) continue;
      await item.restart().catch((error: unknown) => options.log(`restarting ${item.name} failed: ${String(error)}`));
    }
  };
  const loop = (async () => {
    while (!stopping) {
      const wakeAt = Date.now() + randomBetween(random, options.minMs, options.maxMs);
      while (!stopping && Date.now() < wakeAt) await new Promise((wake) => setTimeout(wake, 100));
      if (stopping) return;
      const kind = pick(options.kinds);
      const draw = random();
      if (kind === undefined) return;
      await heal();
      const at = ((Date.now() - started) / 1000).toFixed(1);
      try {
        const what = await inject(kind, draw);
        if (what === undefined) {
          options.log(`[+${at} s] ${kind}: nothing to hit`);
          continue;
        }
        injected[kind] += 1;
        options.log(`[+${at} s] fault ${kind}: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (error) {
        options.log(`[+${at} s] fault ${kind} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return {
    injected,
    async stop() {
      stopping = true;
      await loop;
      await heal();
    },
  };
}
