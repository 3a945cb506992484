/** The working directory of every tool call, backed by the session's named volume. */
export const SANDBOX_WORKDIR = '/workspace';

/** The unprivileged user (uid:gid) that the container and every exec run as. */
export const SANDBOX_USER = '1000:1000';

/** Where each run records its process group id, so a second exec can kill it (Docker cannot kill an exec). */
export const SANDBOX_RUN_DIR = '/tmp/.keel/runs';

/**
 * Where the persistent runner records each keyed call (started, then its result), so a call retried after a worker
 * crash is answered from the record instead of running twice; on the container's tmpfs, out of the agent's workspace.
 */
export const SANDBOX_CALLS_DIR = '/tmp/.keel/calls';

/** Finished call records a runner keeps in `SANDBOX_CALLS_DIR`: recording a new one removes the oldest beyond this. */
export const MAX_CALL_RECORDS = 64;

/** Where the `bash` tool keeps the working directory and exported variables between calls. */
export const SANDBOX_SHELL_STATE_FILE = '/tmp/.keel/shell-state.sh';

/** How long a command that got TERM (timeout or cancellation) has before its process group gets KILL. */
export const COMMAND_KILL_AFTER_MS = 2_000;

/** How often a running sandbox call heartbeats: often, so an interrupt reaches a command within a fraction of a second. */
export const SANDBOX_HEARTBEAT_INTERVAL_MS = 200;

/** Where a tool call's whole output is saved when it is over the cap, so the model can read what the cut hid. */
export const SANDBOX_TOOL_OUTPUT_DIR = `${SANDBOX_WORKDIR}/.keel/tool-output`;

/** Most bytes of one call's output that are saved (64 MiB), so a runaway command cannot fill the workspace volume. */
export const DEFAULT_MAX_SAVED_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Saved outputs kept in `SANDBOX_TOOL_OUTPUT_DIR`: saving a new one first removes the oldest beyond this count. */
export const MAX_SAVED_OUTPUT_FILES = 100;
