import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { createApiClient, describeError } from './api-client';

/** The sign-in form: checks the key with one listing request before keeping it. */
export function SignIn(props: { onSignedIn: (apiKey: string) => void; notice?: string }): JSX.Element {
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string | null>(props.notice ?? null);
  const [checking, setChecking] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setChecking(true);
    setError(null);
    try {
      await createApiClient(apiKey).beta.sessions.list({ limit: 1 });
      props.onSignedIn(apiKey);
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setChecking(false);
    }
  };
  return (
    <main>
      <h1>Sign in to Keel</h1>
      <form onSubmit={(event) => void submit(event)} aria-describedby="sign-in-help">
        <p id="sign-in-help">The key is kept in this tab only, and sent with each request to this Keel's API.</p>
        <label for="api-key">API key</label>{' '}
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          required
          value={apiKey}
          onInput={(event) => setApiKey(event.currentTarget.value)}
        />{' '}
        <button type="submit" disabled={checking}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
      </form>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}
