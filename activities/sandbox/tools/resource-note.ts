import type { RunInContainerResult } from '../run-in-container';

/** From this many processes left running, a command is taken to have run into the pids limit (a fork bomb). */
export const RUNAWAY_LEFTOVER_PROCESSES = 32;

/** The exit status of a command killed by KILL, which the kernel's out-of-memory killer sends. */
const KILLED_STATUS = 137;

/**
 * The lines, in words the model can act on, that say what the sandbox did to a command beyond its output: it ran
 * into the process limit (a fork bomb) and what it left running was stopped, or it left background processes that
 * were stopped, or it was killed, most likely for memory. `undefined` when there is nothing to say. A timeout is said
 * by the caller.
 */
export function resourceNote(result: RunInContainerResult): string | undefined {
  const notes: string[] = [];
  const leftovers = result.leftoverProcesses ?? 0;
  const plural = leftovers === 1 ? 'process' : 'processes';
  if (result.pidsLimitHit === true || leftovers >= RUNAWAY_LEFTOVER_PROCESSES) {
    const stopped =
      leftovers === 0 ? 'none is left running' : `Keel stopped the ${leftovers} ${plural} it left running`;
    notes.push(
      `keel: the command started more processes than the sandbox allows (a fork bomb?); ${stopped}, and the sandbox ` +
        'works again.',
    );
  } else if (leftovers > 0) {
    notes.push(`keel: ${leftovers} background ${plural} the command left running stopped when it ended.`);
  }
  if (!result.timedOut && result.exitCode === KILLED_STATUS) {
    notes.push('keel: the command was killed (signal 9), most likely because the sandbox ran out of memory.');
  }
  return notes.length === 0 ? undefined : notes.join('\n');
}
