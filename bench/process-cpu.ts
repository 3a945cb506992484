import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds spent over a stretch of time, split by who spent them. */
export interface CpuShares {
  /** Wall-clock seconds the stretch lasted. */
  wallSeconds: number;
  /** CPU seconds of each measured group of processes (user + system, with their ended children), by name. */
  byProcess: Record<string, number>;
  /** CPU seconds of the whole machine (every core, not idle or waiting for I/O). */
  machineSeconds: number;
  /** Cores of the machine, so `machineSeconds / (wallSeconds × cores)` is how busy it was. */
  cores: number;
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/**
 * CPU seconds (user + system) a process has used so far, with those of its children that ended and were waited for,
 * read from `/proc/<pid>/stat`; 0 once it has gone.
 */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (fields === null) return 0;
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** The fields of `/proc/<pid>/stat` after the command name (state first), or `null` once the process has gone. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields are counted after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * The processes of the Docker engine: `dockerd`, `containerd`, and every container's shim with what runs under it
 * (the sandboxes, of every user of this engine).
 */
export function dockerPids(): number[] {
  const children = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const fields = statFields(pid);
    if (fields === null) continue;
    const parent = Number(fields[1]);
    children.set(parent, [...(children.get(parent) ?? []), pid]);
    try {
      names.set(pid, readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const addTree = (pid: number): void => {
    found.push(pid);
    for (const child of children.get(pid) ?? []) addTree(child);
  };
  for (const [pid, name] of names) {
    if (name === 'dockerd' || name === 'containerd') found.push(pid);
    if (name.startsWith('containerd-shim')) addTree(pid);
  }
  return found;
}

/** The ids of the live children of `pid` whose command name is `name`. */
export function childrenNamed(pid: number, name: string): number[] {
  const children: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const listed = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    for (const child of listed === '' ? [] : listed.split(' ').map(Number)) {
      if (readFileSync(`/proc/${child}/comm`, 'utf8').trim() === name) children.push(child);
    }
  }
  return children;
}

/** Busy and total CPU seconds of the machine so far, from the first line of `/proc/stat`. */
function machineCpuSeconds(): number {
  const [, ...values] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const ticks = values.map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const busy = ticks.slice(0, 8).reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
  return busy / CLOCK_TICKS_PER_SECOND;
}

function coreCount(): number {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((line) => /^cpu\d+ /.test(line)).length;
}

/**
 * Starts measuring the CPU time of the named groups of processes and of the machine; the returned function ends the stretch
 * and returns what each spent in it.
 */
export function startCpuMeter(processes: Record<string, number[]>): () => CpuShares {
  const startedAt = performance.now();
  const groupSeconds = (pids: number[]): number => pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  const before = Object.fromEntries(Object.entries(processes).map(([name, pids]) => [name, groupSeconds(pids)]));
  const machineBefore = machineCpuSeconds();
  return () => ({
    wallSeconds: (performance.now() - startedAt) / 1000,
    byProcess: Object.fromEntries(
      Object.entries(processes).map(([name, pids]) => [name, groupSeconds(pids) - (before[name] ?? 0)]),
    ),
    machineSeconds: machineCpuSeconds() - machineBefore,
    cores: coreCount(),
  });
}
