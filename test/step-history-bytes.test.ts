import { describe, expect, it } from 'vitest';
import { stepHistoryBytes } from '../bench/step-history-bytes';
import type { SizedEvent, SizedRun } from '../bench/step-history-bytes';

const task = (bytes: number): SizedEvent[] => [
  { type: 'WORKFLOW_TASK_SCHEDULED', bytes },
  { type: 'WORKFLOW_TASK_STARTED', bytes },
  { type: 'WORKFLOW_TASK_COMPLETED', bytes },
];
const activity = (name: string, bytes: number): SizedEvent[] => [
  { type: 'ACTIVITY_TASK_SCHEDULED', activity: name, bytes },
  { type: 'ACTIVITY_TASK_STARTED', activity: name, bytes },
  { type: 'ACTIVITY_TASK_COMPLETED', activity: name, bytes },
];
/** A tool step: a model call, a task, the tool, a task (each event `bytes`): 12 events. */
const step = (bytes: number): SizedEvent[] => [
  ...activity('callModel', bytes),
  ...task(bytes),
  ...activity('execute', bytes),
  ...task(bytes),
];
const run = (events: SizedEvent[], sizeBytes = events.reduce((sum, event) => sum + event.bytes, 0)): SizedRun => ({
  sizeBytes,
  events,
});

describe('stepHistoryBytes', () => {
  it('gives each tool step its own events and an even share of its run’s start, archive and continue-as-new', () => {
    const first = run([
      // The session's creation is the first run's start, shared by its steps; its message starts the turn: no step's.
      { type: 'WORKFLOW_EXECUTION_STARTED', bytes: 100 },
      ...task(10),
      { type: 'WORKFLOW_EXECUTION_SIGNALED', bytes: 40 },
      ...task(30),
      ...step(1),
      ...step(2),
      // The run closes: its archive, the task after it, its continue-as-new.
      ...activity('archiveRunIndexed', 10),
      ...task(5),
      { type: 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW', bytes: 70 },
    ]);
    const second = run([
      // A continued run's start is its own: shared by its steps.
      { type: 'WORKFLOW_EXECUTION_STARTED', bytes: 90 },
      ...task(10),
      ...step(3),
      ...step(4),
      ...step(5),
    ]);
    const result = stepHistoryBytes([first, second]);
    // First run: 100 + 30 + 30 + 15 + 70 = 245 shared by two steps of 12 and 24 bytes; second: 120 shared by three.
    expect(result.steps).toEqual([12 + 122.5, 24 + 122.5, 36 + 40, 48 + 40, 60 + 40]);
    // The message and the task it woke.
    expect(result.turnBytes).toBe(40 + 90);
  });

  it('leaves the message, the provisioning, the closing model call and a run with no step to the turn', () => {
    const withSteps = run([
      { type: 'WORKFLOW_EXECUTION_STARTED', bytes: 40 },
      { type: 'WORKFLOW_EXECUTION_SIGNALED', bytes: 4 },
      ...activity('callModel', 1),
      ...task(1),
      ...activity('provisionSandbox', 7),
      ...activity('execute', 1),
      ...task(1),
      // The model was called twice before its tool ran (a compaction retry): one step.
      ...activity('callModel', 5),
      ...task(5),
      ...activity('execute', 1),
      ...task(1),
      // The closing call: no tool.
      ...activity('callModel', 3),
      ...task(3),
      { type: 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW', bytes: 20 },
    ]);
    const idle = run([{ type: 'WORKFLOW_EXECUTION_STARTED', bytes: 50 }, ...task(2)]);
    const result = stepHistoryBytes([withSteps, idle]);
    // The start (40) and the continue-as-new (20) are shared by the two steps.
    expect(result.steps).toEqual([12 + 30, 15 + 15 + 3 + 3 + 30]);
    expect(result.turnBytes).toBe(4 + 21 + 18 + 50 + 6);
  });

  it('splits a model call that asked for two tools into two steps and scales events to Temporal’s count', () => {
    const events = [...activity('callModel', 2), ...task(2), ...activity('execute', 2), ...activity('execute', 2)];
    const result = stepHistoryBytes([run(events, 60)]);
    // 30 encoded bytes scaled to 60.
    expect(result.steps).toEqual([30, 30]);
  });
});
