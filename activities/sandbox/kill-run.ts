import type Docker from 'dockerode';

import { ContainerStoppedError } from './container-stopped-error';
import { SANDBOX_RUN_DIR } from './sandbox-constants';
import { startExec } from './start-exec';

/** The run whose process group `killRun` ends. */
export interface KillRunRequest {
  docker: Docker;
  containerId: string;
  runId: string;
}

// Waits up to 1 s for the run to record its group, sends TERM, gives it 2 s, sends KILL, then waits until no process of
// the group is left. `kill -0` also sees zombies, which the container's init (`Init: true`) reaps.
const KILL_SCRIPT = `
pgid_file=$1
for attempt in $(seq 50); do [ -s "$pgid_file" ] && break; sleep 0.02; done
pgid=$(cat "$pgid_file" 2>/dev/null) || exit 0
[ -n "$pgid" ] || exit 0
kill -TERM -- "-$pgid" 2>/dev/null || exit 0
for attempt in $(seq 40); do kill -0 -- "-$pgid" 2>/dev/null || exit 0; sleep 0.05; done
kill -KILL -- "-$pgid" 2>/dev/null
for attempt in $(seq 100); do kill -0 -- "-$pgid" 2>/dev/null || exit 0; sleep 0.05; done
exit 1
`;

/**
 * Kills a run's process group from a second exec, because Docker has no API to kill an exec, and waits until the
 * group is gone. Returns whether it is gone (a stopped container counts as gone).
 */
export async function killRun(request: KillRunRequest): Promise<boolean> {
  try {
    const started = await startExec({
      docker: request.docker,
      containerId: request.containerId,
      argv: [
        'bash',
        '--noprofile',
        '--norc',
        '-c',
        KILL_SCRIPT,
        'keel-kill',
        `${SANDBOX_RUN_DIR}/${request.runId}.pgid`,
      ],
      onOutput: () => {},
    });
    await started.ended;
    const info = await started.exec.inspect();
    return info.ExitCode === 0;
  } catch (error) {
    if (error instanceof ContainerStoppedError) return true;
    throw error;
  }
}
