import type { BetaMonetaryAmount } from '@anthropic-ai/sdk/resources/beta/beta';
import type { BetaManagedAgentsSession } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { BetaManagedAgentsSessionResource } from '@anthropic-ai/sdk/resources/beta/sessions/resources';
import type { BetaManagedAgentsSessionThread } from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
import type { JSX } from 'preact';
import { workflowUrl } from './api-client';
import type { ConsoleConfig } from './api-client';

/**
 * The side panel of a session: its agent and environment, its Workflow in the Temporal UI, usage and cost against its
 * budget, its resources, and its threads (`sessions.threads.list`: Keel runs one thread per session, its primary
 * thread; no multi-agent threads yet).
 */
export function SessionDetails(props: {
  session: BetaManagedAgentsSession | null;
  threads: BetaManagedAgentsSessionThread[] | null;
  sessionId: string;
  config: ConsoleConfig | null;
}): JSX.Element {
  const { session } = props;
  const link = workflowUrl(props.config, props.sessionId);
  return (
    <aside class="session-details" aria-label="Session details">
      <h2>Workflow</h2>
      {link === null ? (
        <p>No Temporal UI is known to this server (an external cluster).</p>
      ) : (
        <p>
          <a href={link} target="_blank" rel="noreferrer" data-testid="temporal-link">
            Open this session's Workflow in the Temporal UI
          </a>
        </p>
      )}
      {session === null ? (
        <p>Loading…</p>
      ) : (
        <>
          <dl>
            <dt>Agent</dt>
            <dd>
              {session.agent.name} (version {session.agent.version})
            </dd>
            <dt>Environment</dt>
            <dd>{session.environment_id}</dd>
          </dl>
          <h2>Usage</h2>
          <dl data-testid="usage">
            <dt>Input tokens</dt>
            <dd>{session.usage.input_tokens ?? 0}</dd>
            <dt>Output tokens</dt>
            <dd>{session.usage.output_tokens ?? 0}</dd>
            <dt>Cache reads</dt>
            <dd>{session.usage.cache_read_input_tokens ?? 0}</dd>
            <dt>Active time</dt>
            <dd>{(session.stats.active_seconds ?? 0).toFixed(1)} s</dd>
            <dt>Cost (list price)</dt>
            <dd>{session.usage.list_cost == null ? 'not tracked' : money(session.usage.list_cost)}</dd>
            <dt>Budget</dt>
            <dd data-testid="budget">
              {session.budget === null ? 'none' : `${money(session.budget.max_list_cost)} at most`}
            </dd>
          </dl>
          <h2>Resources</h2>
          {session.resources.length === 0 ? (
            <p>No resources.</p>
          ) : (
            <ul data-testid="resources">
              {session.resources.map((resource, index) => (
                <li key={index}>{describeResource(resource)}</li>
              ))}
            </ul>
          )}
          <h2>Threads</h2>
          {props.threads === null ? (
            <p>Loading…</p>
          ) : (
            <ul data-testid="threads">
              {props.threads.map((thread) => (
                <li key={thread.id}>
                  {thread.parent_thread_id === null ? 'Primary thread' : 'Thread'} <code>{thread.id}</code>:{' '}
                  {thread.status}
                </li>
              ))}
            </ul>
          )}
          <p>Keel has no multi-agent threads yet.</p>
        </>
      )}
    </aside>
  );
}

/** An amount in minor units as the API gives it ("2500" USD), as a person reads it ("25.00 USD"). */
/** An amount of money as `12.34 USD` (the API gives it in minor units). */
export function money(amount: BetaMonetaryAmount): string {
  const minor = amount.amount.padStart(3, '0');
  return `${minor.slice(0, -2)}.${minor.slice(-2)} ${amount.currency}`;
}

function describeResource(resource: BetaManagedAgentsSessionResource): string {
  switch (resource.type) {
    case 'file':
      return `File ${resource.file_id} at ${resource.mount_path}`;
    case 'github_repository':
      return `Repository ${resource.url} at ${resource.mount_path}`;
    case 'memory_store':
      return `Memory store ${resource.memory_store_id}`;
  }
}
