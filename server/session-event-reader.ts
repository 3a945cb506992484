import type { LoggedEvent, SessionStatus } from '../common/events';
import { getEventsQuery } from '../workflows/messages';
import type { SessionQueries } from './session-queries';

/** Events read from the log, with the position the next event will get. */
export interface EventsRead {
  events: LoggedEvent[];
  nextPosition: number;
  status: SessionStatus;
}

const CLOSED_RUNS_CACHED = 64;

/**
 * Reads a session's log from Temporal through `getEventsQuery`, walking back the chain of runs when the events
 * asked for were produced before a continue-as-new. Runs that are closed never change, so their events are cached.
 */
export class SessionEventReader {
  private readonly closedRuns = new Map<string, ClosedRun>();

  constructor(private readonly queries: SessionQueries) {}

  /** Events at positions strictly greater than `after`, in log order, at most `limit`. */
  async read(sessionId: string, after: number, limit: number): Promise<EventsRead> {
    const latest = await this.queries.run(sessionId, getEventsQuery, [{ after, limit }]);
    const segments: LoggedEvent[][] = [latest.events];
    let firstPosition = latest.firstPosition;
    let previousRunId = latest.previousRunId;
    while (firstPosition > after + 1 && previousRunId !== null) {
      const run = await this.closedRun(sessionId, previousRunId);
      segments.unshift(run.events.filter((entry) => entry.position > after));
      firstPosition = run.firstPosition;
      previousRunId = run.previousRunId;
    }
    return { events: segments.flat().slice(0, limit), nextPosition: latest.nextPosition, status: latest.status };
  }

  private async closedRun(sessionId: string, runId: string): Promise<ClosedRun> {
    const cached = this.closedRuns.get(runId);
    if (cached !== undefined) return cached;
    const page = await this.queries.run(
      sessionId,
      getEventsQuery,
      [{ after: -1, limit: Number.MAX_SAFE_INTEGER }],
      runId,
    );
    const run: ClosedRun = {
      events: page.events,
      firstPosition: page.firstPosition,
      previousRunId: page.previousRunId,
    };
    this.closedRuns.set(runId, run);
    if (this.closedRuns.size > CLOSED_RUNS_CACHED) {
      const oldest = this.closedRuns.keys().next().value;
      if (oldest !== undefined) this.closedRuns.delete(oldest);
    }
    return run;
  }
}

interface ClosedRun {
  events: LoggedEvent[];
  firstPosition: number;
  previousRunId: string | null;
}
