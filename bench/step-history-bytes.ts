/** One event of a run's history, as far as attributing its bytes to a tool step needs. */
export interface SizedEvent {
  /** The event's type as Temporal names it, without the `EVENT_TYPE_` prefix (`ACTIVITY_TASK_SCHEDULED`, …). */
  type: string;
  /** The Activity type of an `ACTIVITY_TASK_*` event (of the Activity it schedules, or that it starts or ends). */
  activity?: string;
  bytes: number;
}

/** One run of a session's chain: its events in order and its size as Temporal counts it (`historySizeBytes`). */
export interface SizedRun {
  sizeBytes: number;
  events: SizedEvent[];
}

/** The history bytes of each tool step of a chain of runs, in order, and the bytes that belong to no step. */
export interface StepHistoryBytes {
  steps: number[];
  /**
   * The turn's start and end: in the first run, the user's message and what follows it up to the first model call;
   * the sandbox's provisioning; the closing model call (the one that asked for no tool); runs that ran no step.
   */
  turnBytes: number;
}

const MODEL_ACTIVITY = 'callModel';
const TOOL_ACTIVITY = 'execute';
/** The events a run has because it is a run (it starts, is archived, continues as new), not because of a step. */
const RUN_EVENT_TYPES: ReadonlySet<string> = new Set(['WORKFLOW_EXECUTION_CONTINUED_AS_NEW']);
/** The event that delivers the user's message (Keel sends `user.message` to the Workflow as a Signal). */
const MESSAGE_EVENT_TYPE = 'WORKFLOW_EXECUTION_SIGNALED';
/** The Activities that archive a run's events as it closes (the archive index's, in runs recorded before it). */
const RUN_ACTIVITIES: ReadonlySet<string> = new Set(['archiveRunIndexed', 'archiveEvents', 'writeArchiveIndex']);
/** Once per session, whatever its length: the sandbox's start. */
const SESSION_ACTIVITIES: ReadonlySet<string> = new Set(['provisionSandbox']);

/**
 * Attributes every byte of a session's history (one turn of tool steps, as the long-session bench runs) to the tool
 * step it belongs to. A step is a model call that asked for a tool and everything up to the next model call (its tool
 * run, its Workflow tasks, what it logged); a model call retried or compacted before its tool runs stays in its step.
 * A run's own events are shared by its steps evenly: its start (a continued run's start event, with what the previous
 * run carried over, and what precedes its first model call; the first run's events before the user's message, which
 * are the session's creation and its first listing, the state a continued run carries in its start event), the archive
 * of its events and what follows it, its continue-as-new. The turn's start and end belong to no step: in the first run,
 * the user's message (the Signal that delivers it) and what follows it up to the first model call, the
 * sandbox's provisioning, and what follows the last tool step (the closing model call, the idle status, runs that ran
 * no step). Event sizes are scaled so that each run adds up to Temporal's own count of its bytes.
 */
export function stepHistoryBytes(runs: SizedRun[]): StepHistoryBytes {
  const steps: number[] = [];
  let turnBytes = 0;
  for (const [index, run] of runs.entries()) {
    const encoded = run.events.reduce((sum, event) => sum + event.bytes, 0);
    const scale = encoded === 0 ? 0 : run.sizeBytes / encoded;
    let runBytes = 0;
    const runSteps: number[] = [];
    /** The bytes of the step being read, not yet known to be a tool step until its tool is scheduled. */
    let open: { bytes: number; tools: number } | null = null;
    /** From the archive on, the run is closing: what follows is the run's, not its last step's. */
    let closing = false;
    /** In the first run, from the user's message to the first model call: the turn's start. */
    let turnStarting = false;
    const close = (): void => {
      if (open === null) return;
      if (open.tools === 0) turnBytes += open.bytes;
      // A model call that asked for several tools at once is that many steps, sharing its bytes.
      else for (let tool = 0; tool < open.tools; tool++) runSteps.push(open.bytes / open.tools);
      open = null;
    };
    for (const event of run.events) {
      const bytes = event.bytes * scale;
      const scheduled = event.type === 'ACTIVITY_TASK_SCHEDULED';
      if (event.activity !== undefined && SESSION_ACTIVITIES.has(event.activity)) {
        turnBytes += bytes;
        continue;
      }
      if (scheduled && event.activity !== undefined && RUN_ACTIVITIES.has(event.activity)) {
        close();
        closing = true;
      }
      if (closing || RUN_EVENT_TYPES.has(event.type)) {
        runBytes += bytes;
        continue;
      }
      // A model call starts a new step once the open one has run a tool.
      if (scheduled && event.activity === MODEL_ACTIVITY && (open === null || open.tools > 0)) {
        close();
        open = { bytes: 0, tools: 0 };
      }
      if (open === null) {
        // Before the run's first model call: the run's start, except the first run's message and what follows it.
        if (index === 0 && event.type === MESSAGE_EVENT_TYPE) turnStarting = true;
        if (turnStarting) turnBytes += bytes;
        else runBytes += bytes;
        continue;
      }
      open.bytes += bytes;
      if (scheduled && event.activity === TOOL_ACTIVITY) open.tools += 1;
    }
    close();
    if (runSteps.length === 0) {
      turnBytes += runBytes;
      continue;
    }
    const share = runBytes / runSteps.length;
    for (const bytes of runSteps) steps.push(bytes + share);
  }
  return { steps, turnBytes };
}
