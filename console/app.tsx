import { useEffect, useMemo, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { createApiClient, storeApiKey, storedApiKey } from './api-client';
import { SessionList } from './session-list';
import { SessionView } from './session-view';
import { SignIn } from './sign-in';

/** The page the location's hash names: `#/sessions` (the default) or `#/sessions/<id>`. */
function currentRoute(): { page: 'sessions' } | { page: 'session'; sessionId: string } {
  const match = /^#\/sessions\/([^/?#]+)/.exec(window.location.hash);
  return match?.[1] !== undefined ? { page: 'session', sessionId: decodeURIComponent(match[1]) } : { page: 'sessions' };
}

/** The console: sign-in, then the sessions list and a session's view, routed by the location's hash. */
export function App(): JSX.Element {
  const [apiKey, setApiKey] = useState<string | null>(storedApiKey());
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const onHashChange = (): void => setRoute(currentRoute());
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);
  const client = useMemo(() => (apiKey === null ? null : createApiClient(apiKey)), [apiKey]);
  if (client === null) {
    return (
      <SignIn
        {...(notice === undefined ? {} : { notice })}
        onSignedIn={(key) => {
          storeApiKey(key);
          setNotice(undefined);
          setApiKey(key);
        }}
      />
    );
  }
  const signOut = (): void => {
    storeApiKey(null);
    setApiKey(null);
  };
  return (
    <>
      <header>
        <strong>Keel</strong>
        <nav aria-label="Main">
          <a href="#/sessions">Sessions</a>
        </nav>
        <span class="spacer" />
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {route.page === 'session' ? (
          <SessionView key={route.sessionId} client={client} sessionId={route.sessionId} />
        ) : (
          <SessionList client={client} />
        )}
      </main>
    </>
  );
}
