import { FAULT_KINDS } from './chaos-faults';
import type { ChaosReport } from './chaos-run';

/** How many faults a chaos run injected, of every kind. */
export function faultCount(report: ChaosReport): number {
  return Object.values(report.faults).reduce((total, count) => total + count, 0);
}

/** Whether a chaos run met every target: all sessions completed, nothing lost, repeated or reordered, faults made. */
export function chaosTargetsMet(report: ChaosReport): boolean {
  const { lost, duplicated, outOfOrder, streamLost, streamDuplicated } = report;
  return (
    report.completed === report.options.sessions &&
    lost + duplicated + outOfOrder + streamLost + streamDuplicated === 0 &&
    faultCount(report) > 0
  );
}

/** The rows of a chaos report, as `[measure, value, target]`. */
export function chaosReportRows(report: ChaosReport): string[][] {
  const sessions = report.options.sessions;
  const steps = sessions * report.options.steps;
  const check = (met: boolean): string => (met ? 'met' : 'MISSED');
  return [
    ['sessions completed', `${report.completed}/${sessions}`, `100%: ${check(report.completed === sessions)}`],
    ['events lost (events.list)', String(report.lost), `0: ${check(report.lost === 0)}`],
    ['events duplicated (events.list)', String(report.duplicated), `0: ${check(report.duplicated === 0)}`],
    ['events out of order (events.list)', String(report.outOfOrder), `0: ${check(report.outOfOrder === 0)}`],
    ['events lost (live stream vs list)', String(report.streamLost), `0: ${check(report.streamLost === 0)}`],
    ['events duplicated (live stream)', String(report.streamDuplicated), `0: ${check(report.streamDuplicated === 0)}`],
    ['tool side effects exactly once', `${report.effectsOnce}/${steps}`, ''],
    ['tool side effects twice or more', String(report.effectsRepeated), ''],
    [
      'tool side effects never',
      `${report.effectsNever} (${report.effectsNeverReported} reported to the model as interrupted)`,
      '',
    ],
    ['tool side effects not read (no final cat)', String(report.effectsUnread), ''],
    [
      'session.error events',
      String(report.sessionErrors),
      Object.entries(report.sessionErrorKinds)
        .map(([kind, count]) => `${kind} ${count}`)
        .join(', '),
    ],
    ['tool results with is_error', String(report.errorResults), ''],
    [
      'faults injected',
      FAULT_KINDS.filter((kind) => report.options.faults.includes(kind))
        .map((kind) => `${kind} ${report.faults[kind]}`)
        .join(', '),
      `at least 1: ${check(faultCount(report) > 0)}`,
    ],
    ['wall time', `${(report.wallMs / 1000).toFixed(1)} s`, ''],
    ['seed', String(report.options.seed), `--seed=${report.options.seed} reproduces the fault schedule`],
  ];
}
