/** The working directory of every tool call, backed by the session's named volume. */
export const SANDBOX_WORKDIR = '/workspace';

/** The unprivileged user (uid:gid) that the container and every exec run as. */
export const SANDBOX_USER = '1000:1000';

/** Where each run records its process group id, so a second exec can kill it (Docker cannot kill an exec). */
export const SANDBOX_RUN_DIR = '/tmp/.keel/runs';

/** Where the `bash` tool keeps the working directory and exported variables between calls. */
export const SANDBOX_SHELL_STATE_FILE = '/tmp/.keel/shell-state.sh';

/** How long a command that got TERM (timeout or cancellation) has before its process group gets KILL. */
export const COMMAND_KILL_AFTER_MS = 2_000;

/** How often a running sandbox call heartbeats: often, so an interrupt reaches a command within a fraction of a second. */
export const SANDBOX_HEARTBEAT_INTERVAL_MS = 200;
