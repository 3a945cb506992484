import type Anthropic from '@anthropic-ai/sdk';
import type { AgentUpdateParams, BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { useEffect, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { describeError } from './api-client';
import { ErrorNote } from './error-note';
import { listAll, useLoaded } from './use-loaded';

/** The fields of an agent's definition, in the order the side-by-side table shows them. */
const DEFINITION_FIELDS = [
  'name',
  'description',
  'model',
  'system',
  'tools',
  'mcp_servers',
  'skills',
  'metadata',
] as const;

/** A field's value as the table shows it: strings as they are, the rest as JSON. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** The editable part of an agent, as the JSON an `agents.update` takes (without `version`, which the page adds). */
function editable(agent: BetaManagedAgentsAgent): string {
  const { name, description, model, system, tools, mcp_servers, skills, metadata } = agent;
  return JSON.stringify({ name, description, model, system, tools, mcp_servers, skills, metadata }, null, 2);
}

/**
 * One agent's versions side by side (a column per version, oldest first; rows whose value changed are marked), and a
 * JSON box that saves a new version.
 */
export function AgentVersions(props: { client: Anthropic; agentId: string; onChanged: () => void }): JSX.Element {
  const { client, agentId } = props;
  const versions = useLoaded(
    async () =>
      (await listAll(client.beta.agents.versions.list(agentId, { limit: 100 }))).sort((a, b) => a.version - b.version),
    [client, agentId],
  );
  const latest = versions.value?.at(-1);
  const [json, setJson] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (latest !== undefined) setJson(editable(latest));
  }, [latest?.id, latest?.version]);
  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (latest === undefined) return;
    setError(null);
    let body: AgentUpdateParams;
    try {
      body = JSON.parse(json) as AgentUpdateParams;
    } catch (caught) {
      setError(`The JSON does not parse: ${describeError(caught)}`);
      return;
    }
    try {
      await client.beta.agents.update(agentId, { ...body, version: latest.version });
      versions.reload();
      props.onChanged();
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  return (
    <section aria-labelledby="versions-heading" class="agent-versions">
      <h2 id="versions-heading">Versions of {latest?.name ?? agentId}</h2>
      <ErrorNote error={versions.error} />
      {versions.value !== null && (
        <div class="scroll">
          <table aria-label="Versions side by side" data-testid="agent-versions">
            <thead>
              <tr>
                <th scope="col">Field</th>
                {versions.value.map((version) => (
                  <th scope="col" key={version.version} data-version={version.version}>
                    Version {version.version}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {DEFINITION_FIELDS.map((field) => {
                const values = (versions.value ?? []).map((version) => shown(version[field]));
                const changed = values.some((value) => value !== values[0]);
                return (
                  <tr key={field} data-field={field} data-changed={String(changed)} class={changed ? 'changed' : ''}>
                    <th scope="row">
                      {field}
                      {changed ? ' (changed)' : ''}
                    </th>
                    {values.map((value, index) => (
                      <td key={index}>
                        <pre>{value}</pre>
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {latest !== undefined && (
        <form class="stacked" onSubmit={(event) => void save(event)}>
          <label for="agent-version-json">New version (JSON, as agents.update takes it)</label>
          <textarea
            id="agent-version-json"
            class="code"
            rows={10}
            value={json}
            onInput={(event) => setJson(event.currentTarget.value)}
          />
          <button type="submit">Save as version {latest.version + 1}</button>
          <ErrorNote error={error} />
        </form>
      )}
    </section>
  );
}
