import type Docker from 'dockerode';

import { ContainerStoppedError } from './container-stopped-error';
import { describeStoppedContainer } from './describe-stopped-container';
import type { Waits } from './waits';

/** How long a container whose exec closed without a status may take to show as stopped. */
const STOPPED_CHECKS = 10;
const STOPPED_CHECK_INTERVAL_MS = 100;

/**
 * Called when an exec's stream closed without the status it owed: raises `ContainerStoppedError` if the container
 * stopped (Docker may take a moment to show it, so it looks for about a second); returns when it still runs, which
 * means the process in the exec was killed.
 */
export async function throwIfContainerStopped(docker: Docker, containerId: string, waits: Waits): Promise<void> {
  for (let check = 0; check < STOPPED_CHECKS; check++) {
    const detail = await describeStoppedContainer(docker, containerId);
    if (detail !== undefined) throw new ContainerStoppedError(detail);
    await waits.delay(STOPPED_CHECK_INTERVAL_MS);
  }
}
