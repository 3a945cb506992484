import type Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams, BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { describeError } from './api-client';
import { AgentVersions } from './agent-versions';
import { ErrorNote } from './error-note';
import { listAll, useLoaded } from './use-loaded';

/** The example the JSON form opens with: a valid `agents.create` body to edit. */
const EXAMPLE_AGENT = JSON.stringify(
  {
    name: 'my agent',
    model: 'claude-sonnet-5-5',
    system: 'You are helpful.',
    tools: [{ type: 'agent_toolset_20260401' }],
  },
  null,
  2,
);

/** The agents: a list, a form and a JSON box to create one, and (with `agentId`) that agent's versions side by side. */
export function AgentsPage(props: { client: Anthropic; agentId: string | null }): JSX.Element {
  const { client } = props;
  const agents = useLoaded(() => listAll(client.beta.agents.list({ limit: 100 })), [client]);
  const created = (agent: BetaManagedAgentsAgent): void => {
    agents.reload();
    window.location.hash = `#/agents/${encodeURIComponent(agent.id)}`;
  };
  return (
    <section aria-labelledby="agents-heading">
      <h1 id="agents-heading">Agents</h1>
      <ErrorNote error={agents.error} />
      {agents.value === null ? (
        <p>Loading…</p>
      ) : agents.value.length === 0 ? (
        <p>No agents yet.</p>
      ) : (
        <table aria-label="Agents">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Model</th>
              <th scope="col">Version</th>
              <th scope="col">Id</th>
            </tr>
          </thead>
          <tbody>
            {agents.value.map((agent) => (
              <tr key={agent.id} data-agent-id={agent.id}>
                <td>
                  <a href={`#/agents/${encodeURIComponent(agent.id)}`}>{agent.name}</a>
                </td>
                <td>{agent.model.id}</td>
                <td>{agent.version}</td>
                <td>
                  <code>{agent.id}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.agentId !== null && (
        <AgentVersions key={props.agentId} client={client} agentId={props.agentId} onChanged={agents.reload} />
      )}
      <div class="columns">
        <AgentForm client={client} onCreated={created} />
        <AgentJsonForm client={client} onCreated={created} />
      </div>
    </section>
  );
}

/** Creates an agent from a few fields: name, model, system prompt, the built-in toolset and its permission policy. */
function AgentForm(props: { client: Anthropic; onCreated: (agent: BetaManagedAgentsAgent) => void }): JSX.Element {
  const [name, setName] = useState('');
  const [model, setModel] = useState('claude-sonnet-5-5');
  const [system, setSystem] = useState('');
  const [toolset, setToolset] = useState(true);
  const [policy, setPolicy] = useState<'always_allow' | 'always_ask'>('always_allow');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    const body: AgentCreateParams = {
      name,
      model,
      ...(system.trim() === '' ? {} : { system }),
      tools: toolset
        ? [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: policy } } }]
        : [],
    };
    try {
      props.onCreated(await props.client.beta.agents.create(body));
      setName('');
      setSystem('');
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  return (
    <form class="stacked" aria-labelledby="agent-form-heading" onSubmit={(event) => void submit(event)}>
      <h2 id="agent-form-heading">New agent</h2>
      <label for="agent-name">Name</label>
      <input id="agent-name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
      <label for="agent-model">Model</label>
      <input id="agent-model" required value={model} onInput={(event) => setModel(event.currentTarget.value)} />
      <label for="agent-system">System prompt</label>
      <textarea id="agent-system" value={system} onInput={(event) => setSystem(event.currentTarget.value)} />
      <label>
        <input
          id="agent-toolset"
          type="checkbox"
          checked={toolset}
          onChange={(event) => setToolset(event.currentTarget.checked)}
        />{' '}
        Built-in tools (bash, files, web)
      </label>
      <label for="agent-policy">Tool permission</label>
      <select
        id="agent-policy"
        value={policy}
        disabled={!toolset}
        onChange={(event) => setPolicy(event.currentTarget.value as typeof policy)}
      >
        <option value="always_allow">Run without asking</option>
        <option value="always_ask">Ask before each call</option>
      </select>
      <button type="submit">Create agent</button>
      <ErrorNote error={error} />
    </form>
  );
}

/** Creates an agent from a JSON body, exactly as `client.beta.agents.create` takes it. */
function AgentJsonForm(props: { client: Anthropic; onCreated: (agent: BetaManagedAgentsAgent) => void }): JSX.Element {
  const [json, setJson] = useState(EXAMPLE_AGENT);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    let body: AgentCreateParams;
    try {
      body = JSON.parse(json) as AgentCreateParams;
    } catch (caught) {
      setError(`The JSON does not parse: ${describeError(caught)}`);
      return;
    }
    try {
      props.onCreated(await props.client.beta.agents.create(body));
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  return (
    <form class="stacked" aria-labelledby="agent-json-heading" onSubmit={(event) => void submit(event)}>
      <h2 id="agent-json-heading">New agent from JSON</h2>
      <label for="agent-json">Agent definition (JSON, as agents.create takes it)</label>
      <textarea
        id="agent-json"
        class="code"
        rows={10}
        value={json}
        onInput={(event) => setJson(event.currentTarget.value)}
      />
      <button type="submit">Create agent from JSON</button>
      <ErrorNote error={error} />
    </form>
  );
}
