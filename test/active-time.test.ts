import { describe, expect, it } from 'vitest';
import { activeSeconds, afterStatus, noActiveTime } from '../common/active-time';

describe('active time', () => {
  it('counts only the stretches spent running, the current one included', () => {
    let time = noActiveTime();
    time = afterStatus(time, 'running', 1_000);
    expect(activeSeconds(time, 3_500)).toBe(2.5);
    time = afterStatus(time, 'idle', 4_000);
    expect(activeSeconds(time, 60_000)).toBe(3);
    time = afterStatus(time, 'running', 70_000);
    time = afterStatus(time, 'running', 71_000);
    time = afterStatus(time, 'rescheduling', 72_000);
    time = afterStatus(time, 'terminated', 90_000);
    expect(time).toEqual({ closedMs: 5_000, runningSince: null });
  });
});
