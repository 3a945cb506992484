import { describe, expect, it } from 'vitest';
import { chaosReportRows } from './support/chaos-report';
import { runChaos } from './support/chaos-run';

describe('chaos smoke: seeded worker, server and sandbox faults during running sessions', () => {
  it('5 sessions × 5 tool steps all complete, with no event lost or duplicated in the log or at the live stream', async () => {
    const lines: string[] = [];
    const report = await runChaos({
      sessions: 5,
      steps: 5,
      // This seed's schedule: a worker SIGKILL, a sandbox `docker kill`, a server SIGKILL, each 2–4 s after the last
      // was repaired.
      seed: 2,
      // No Temporal or Docker daemon faults here: other test files use the same Docker engine meanwhile.
      faults: ['worker', 'server', 'container'],
      minFaultMs: 2_000,
      maxFaultMs: 4_000,
      sleepSeconds: 3,
      servers: 2,
      workers: 2,
      timeoutMs: 150_000,
      log: (line) => lines.push(line),
    });
    const table = chaosReportRows(report)
      .map((row) => row.join(' | '))
      .join('\n');
    const context = `${lines.join('\n')}\n${table}`;
    console.log(context);
    expect(report.faults.worker, context).toBeGreaterThanOrEqual(1);
    expect(report.faults.server, context).toBeGreaterThanOrEqual(1);
    expect(report.faults.container, context).toBeGreaterThanOrEqual(1);
    expect(report.completed, context).toBe(5);
    expect(report.lost, context).toBe(0);
    expect(report.duplicated, context).toBe(0);
    expect(report.outOfOrder, context).toBe(0);
    expect(report.streamLost, context).toBe(0);
    expect(report.streamDuplicated, context).toBe(0);
    // Every append step's line was read back from the workspace by the final `cat`.
    expect(report.effectsUnread, context).toBe(0);
    expect(report.effectsOnce + report.effectsRepeated + report.effectsNever, context).toBe(25);
  }, 240_000);
});
