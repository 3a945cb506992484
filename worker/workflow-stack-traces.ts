/** The variable the patched Temporal SDK reads in each Workflow thread as the thread starts (patches/README.md). */
export const WORKFLOW_STACK_TRACES_VARIABLE = 'KEEL_WORKFLOW_STACK_TRACES';

/**
 * Turns the Workflow threads' stack trace recording on or off, for the Workflow threads this process starts from now
 * on (`KEEL_WORKFLOW_STACK_TRACES`, off by default).
 *
 * The Temporal SDK installs a V8 promise hook in each Workflow thread that records a source-mapped stack trace of every
 * Promise a Workflow makes, so that the `__stack_trace` Query (the Web UI's "Stack Trace" tab) can answer; the SDK has
 * no switch for it (sdk-typescript#1587). Under 100 sessions it cost about 2 ms of the Workflow thread's CPU a tool
 * step, a third of that thread's work. Keel's patch of the SDK installs the hook only where this variable is `on`. A
 * thread reads it from the copy of the environment it gets when it is created, which is inside `Worker.create`: so this
 * runs before it, and it is the one place Keel writes the environment.
 */
export function setWorkflowStackTraces(enabled: boolean): void {
  process.env[WORKFLOW_STACK_TRACES_VARIABLE] = enabled ? 'on' : 'off';
}
