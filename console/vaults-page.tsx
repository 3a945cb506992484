import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsCredential } from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { describeError } from './api-client';
import { ErrorNote } from './error-note';
import { listAll, useLoaded } from './use-loaded';

/** What a credential is for, never its secret (the API does not return secrets; the page would not show them). */
function describeCredential(credential: BetaManagedAgentsCredential): string {
  const auth = credential.auth;
  switch (auth.type) {
    case 'static_bearer':
      return `Bearer token for ${auth.mcp_server_url}`;
    case 'mcp_oauth':
      return `OAuth for ${auth.mcp_server_url}`;
    case 'environment_variable':
      return `Environment variable ${auth.secret_name}`;
  }
}

/** The vaults: a list with a form to create one, and each vault's credentials (shown without secrets) with a form. */
export function VaultsPage(props: { client: Anthropic }): JSX.Element {
  const { client } = props;
  const vaults = useLoaded(() => listAll(client.beta.vaults.list({ limit: 100 })), [client]);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      await client.beta.vaults.create({ display_name: name });
      setName('');
      vaults.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  return (
    <section aria-labelledby="vaults-heading">
      <h1 id="vaults-heading">Vaults</h1>
      <p>Secrets are write-only: the API never returns them, and this page shows what each credential is for.</p>
      <ErrorNote error={vaults.error} />
      {vaults.value === null ? (
        <p>Loading…</p>
      ) : vaults.value.length === 0 ? (
        <p>No vaults yet.</p>
      ) : (
        vaults.value.map((vault) => (
          <VaultCredentials key={vault.id} client={client} vaultId={vault.id} name={vault.display_name} />
        ))
      )}
      <form class="stacked" aria-labelledby="vault-form-heading" onSubmit={(event) => void submit(event)}>
        <h2 id="vault-form-heading">New vault</h2>
        <label for="vault-name">Name</label>
        <input id="vault-name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        <button type="submit">Create vault</button>
        <ErrorNote error={error} />
      </form>
    </section>
  );
}

/** One vault: its credentials, and a form that adds a bearer token for an MCP server. */
function VaultCredentials(props: { client: Anthropic; vaultId: string; name: string }): JSX.Element {
  const { client, vaultId } = props;
  const credentials = useLoaded(
    () => listAll(client.beta.vaults.credentials.list(vaultId, { limit: 100 })),
    [client, vaultId],
  );
  const [label, setLabel] = useState('');
  const [serverUrl, setServerUrl] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      await client.beta.vaults.credentials.create(vaultId, {
        ...(label.trim() === '' ? {} : { display_name: label }),
        auth: { type: 'static_bearer', mcp_server_url: serverUrl, token },
      });
      setLabel('');
      setServerUrl('');
      setToken('');
      credentials.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  const field = (name: string): string => `${name}-${vaultId}`;
  return (
    <article class="card" aria-labelledby={field('vault')} data-vault-id={vaultId}>
      <h2 id={field('vault')}>{props.name}</h2>
      <p>
        <code>{vaultId}</code>
      </p>
      <ErrorNote error={credentials.error} />
      {credentials.value !== null &&
        (credentials.value.length === 0 ? (
          <p>No credentials.</p>
        ) : (
          <ul aria-label={`Credentials of ${props.name}`}>
            {credentials.value.map((credential) => (
              <li key={credential.id} data-credential-id={credential.id}>
                <strong>{credential.display_name ?? credential.id}</strong>: {describeCredential(credential)}
              </li>
            ))}
          </ul>
        ))}
      <form class="stacked" aria-label={`New credential in ${props.name}`} onSubmit={(event) => void submit(event)}>
        <label for={field('credential-name')}>Credential name</label>
        <input id={field('credential-name')} value={label} onInput={(event) => setLabel(event.currentTarget.value)} />
        <label for={field('credential-url')}>MCP server URL</label>
        <input
          id={field('credential-url')}
          type="url"
          required
          value={serverUrl}
          onInput={(event) => setServerUrl(event.currentTarget.value)}
        />
        <label for={field('credential-token')}>Bearer token</label>
        <input
          id={field('credential-token')}
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <button type="submit">Add credential</button>
        <ErrorNote error={error} />
      </form>
    </article>
  );
}
