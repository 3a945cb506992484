import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSession } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { useEffect, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { describeError } from './api-client';
import { money } from './session-details';
import { listAll, useLoaded } from './use-loaded';

const STATUSES = ['running', 'idle', 'rescheduling', 'terminated'] as const;
const PAGE_SIZE = 20;
/** How often the page shown is listed again, so status changes show without a reload. */
const REFRESH_MS = 3_000;

/** The sessions, newest first, a page at a time, optionally of one status and one agent; kept current. */
export function SessionList(props: { client: Anthropic }): JSX.Element {
  const [status, setStatus] = useState<'' | (typeof STATUSES)[number]>('');
  const [agentId, setAgentId] = useState('');
  const [refreshes, setRefreshes] = useState(0);
  const agents = useLoaded(() => listAll(props.client.beta.agents.list({ limit: 100 })), [props.client]);
  // The cursors of the pages before the current one, and the current one's (`null` for the first page).
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [sessions, setSessions] = useState<BetaManagedAgentsSession[] | null>(null);
  const [nextPage, setNextPage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const page = cursors.at(-1) ?? null;
  useEffect(() => {
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setError(null);
    props.client.beta.sessions
      .list({
        limit: PAGE_SIZE,
        ...(page === null ? {} : { page }),
        ...(status === '' ? {} : { statuses: [status] }),
        ...(agentId === '' ? {} : { agent_id: agentId }),
      })
      .then((result) => {
        if (!current) return;
        setSessions(result.data);
        setNextPage(result.next_page);
      })
      .catch((caught: unknown) => current && setError(describeError(caught)))
      .finally(() => {
        // The next listing of this page, once this one is in: a slow server is never asked twice at once.
        if (current) timer = setTimeout(() => setRefreshes((count) => count + 1), REFRESH_MS);
      });
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [props.client, status, agentId, page, refreshes]);
  return (
    <section aria-labelledby="sessions-heading">
      <h1 id="sessions-heading">Sessions</h1>
      <label for="status-filter">Status</label>{' '}
      <select
        id="status-filter"
        value={status}
        onChange={(event) => {
          setStatus(event.currentTarget.value as typeof status);
          setCursors([null]);
        }}
      >
        <option value="">All</option>
        {STATUSES.map((value) => (
          <option value={value}>{value}</option>
        ))}
      </select>{' '}
      <label for="agent-filter">Agent</label>{' '}
      <select
        id="agent-filter"
        value={agentId}
        onChange={(event) => {
          setAgentId(event.currentTarget.value);
          setCursors([null]);
        }}
      >
        <option value="">All</option>
        {(agents.value ?? []).map((agent) => (
          <option value={agent.id}>{agent.name}</option>
        ))}
      </select>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {sessions === null ? (
        <p>Loading…</p>
      ) : sessions.length === 0 ? (
        <p>No sessions.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Status</th>
              <th scope="col">Agent</th>
              <th scope="col">Created</th>
              <th scope="col">Tokens (in / out)</th>
              <th scope="col">Cost (list price)</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((session) => (
              <tr key={session.id} data-session-id={session.id}>
                <td>
                  <a href={`#/sessions/${encodeURIComponent(session.id)}`}>{session.title ?? session.id}</a>
                </td>
                <td>{session.status}</td>
                <td>{session.agent.name}</td>
                <td>
                  <time dateTime={session.created_at}>{new Date(session.created_at).toLocaleString()}</time>
                </td>
                <td>
                  {session.usage.input_tokens ?? 0} / {session.usage.output_tokens ?? 0}
                </td>
                <td>{session.usage.list_cost == null ? '—' : money(session.usage.list_cost)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav aria-label="Pages">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>{' '}
        <button
          type="button"
          disabled={nextPage === null}
          onClick={() => nextPage !== null && setCursors([...cursors, nextPage])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
