import type Anthropic from '@anthropic-ai/sdk';
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { describeError } from './api-client';
import { ErrorNote } from './error-note';
import { listAll, useLoaded } from './use-loaded';

/** How an environment's configuration reads in the list: its kind and, for a cloud one, its network policy. */
function describeConfig(environment: BetaEnvironment): string {
  const config = environment.config;
  if (config.type !== 'cloud') return config.type;
  const networking = config.networking;
  return `cloud, network ${networking.type}`;
}

/** The environments: a list, and a form that creates a cloud environment with its network policy. */
export function EnvironmentsPage(props: { client: Anthropic }): JSX.Element {
  const { client } = props;
  const environments = useLoaded(() => listAll(client.beta.environments.list({ limit: 100 })), [client]);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [network, setNetwork] = useState<'unrestricted' | 'limited'>('limited');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      await client.beta.environments.create({
        name,
        ...(description.trim() === '' ? {} : { description }),
        config: { type: 'cloud', networking: { type: network } },
      });
      setName('');
      setDescription('');
      environments.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  return (
    <section aria-labelledby="environments-heading">
      <h1 id="environments-heading">Environments</h1>
      <ErrorNote error={environments.error} />
      {environments.value === null ? (
        <p>Loading…</p>
      ) : environments.value.length === 0 ? (
        <p>No environments yet.</p>
      ) : (
        <table aria-label="Environments">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Configuration</th>
              <th scope="col">Description</th>
              <th scope="col">Id</th>
            </tr>
          </thead>
          <tbody>
            {environments.value.map((environment) => (
              <tr key={environment.id} data-environment-id={environment.id}>
                <td>{environment.name}</td>
                <td>{describeConfig(environment)}</td>
                <td>{environment.description ?? ''}</td>
                <td>
                  <code>{environment.id}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="stacked" aria-labelledby="environment-form-heading" onSubmit={(event) => void submit(event)}>
        <h2 id="environment-form-heading">New environment</h2>
        <label for="environment-name">Name</label>
        <input id="environment-name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        <label for="environment-description">Description</label>
        <input
          id="environment-description"
          value={description}
          onInput={(event) => setDescription(event.currentTarget.value)}
        />
        <label for="environment-network">Network</label>
        <select
          id="environment-network"
          value={network}
          onChange={(event) => setNetwork(event.currentTarget.value as typeof network)}
        >
          <option value="limited">Limited (no network unless allowed)</option>
          <option value="unrestricted">Unrestricted</option>
        </select>
        <button type="submit">Create environment</button>
        <ErrorNote error={error} />
      </form>
    </section>
  );
}
