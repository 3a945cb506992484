import { useEffect, useMemo, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { createApiClient, fetchConsoleConfig, storeApiKey, storedApiKey } from './api-client';
import type { ConsoleConfig } from './api-client';
import { AgentsPage } from './agents-page';
import { EnvironmentsPage } from './environments-page';
import { FilesPage } from './files-page';
import { SessionList } from './session-list';
import { SessionView } from './session-view';
import { SignIn } from './sign-in';
import { VaultsPage } from './vaults-page';

/** The pages of the console, by the location's hash. */
type Route =
  | { page: 'sessions' }
  | { page: 'session'; sessionId: string }
  | { page: 'agents'; agentId: string | null }
  | { page: 'environments' }
  | { page: 'vaults' }
  | { page: 'files' };

/** The sections of the main navigation, in order. */
const SECTIONS = [
  { page: 'sessions', label: 'Sessions' },
  { page: 'agents', label: 'Agents' },
  { page: 'environments', label: 'Environments' },
  { page: 'vaults', label: 'Vaults' },
  { page: 'files', label: 'Files' },
] as const;

/** The page the location's hash names: `#/sessions` (the default), `#/sessions/<id>`, `#/agents[/<id>]`, and so on. */
function currentRoute(): Route {
  const [, section, id] = /^#\/([a-z]+)(?:\/([^/?#]+))?/.exec(window.location.hash) ?? [];
  const decoded = id === undefined ? null : decodeURIComponent(id);
  switch (section) {
    case 'sessions':
      return decoded === null ? { page: 'sessions' } : { page: 'session', sessionId: decoded };
    case 'agents':
      return { page: 'agents', agentId: decoded };
    case 'environments':
    case 'vaults':
    case 'files':
      return { page: section };
    default:
      return { page: 'sessions' };
  }
}

/** The console: sign-in, then the sections (sessions, agents, environments, vaults, files), routed by the hash. */
export function App(): JSX.Element {
  const [apiKey, setApiKey] = useState<string | null>(storedApiKey());
  const [route, setRoute] = useState(currentRoute());
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  useEffect(() => {
    const onHashChange = (): void => setRoute(currentRoute());
    window.addEventListener('hashchange', onHashChange);
    fetchConsoleConfig()
      .then(setConfig)
      .catch(() => setConfig({ temporal_ui_url: null, temporal_namespace: 'default' }));
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);
  const client = useMemo(() => (apiKey === null ? null : createApiClient(apiKey)), [apiKey]);
  if (client === null) {
    return (
      <SignIn
        onSignedIn={(key) => {
          storeApiKey(key);
          setApiKey(key);
        }}
      />
    );
  }
  const signOut = (): void => {
    storeApiKey(null);
    setApiKey(null);
  };
  const section = route.page === 'session' ? 'sessions' : route.page;
  return (
    <>
      <header>
        <strong>Keel</strong>
        <nav aria-label="Main">
          {SECTIONS.map((entry) => (
            <a
              key={entry.page}
              href={`#/${entry.page}`}
              {...(entry.page === section ? { 'aria-current': 'page' as const } : {})}
            >
              {entry.label}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} client={client} config={config} />
      </main>
    </>
  );
}

function Page(props: {
  route: Route;
  client: ReturnType<typeof createApiClient>;
  config: ConsoleConfig | null;
}): JSX.Element {
  const { route, client } = props;
  switch (route.page) {
    case 'session':
      return <SessionView key={route.sessionId} client={client} sessionId={route.sessionId} config={props.config} />;
    case 'agents':
      return <AgentsPage client={client} agentId={route.agentId} />;
    case 'environments':
      return <EnvironmentsPage client={client} />;
    case 'vaults':
      return <VaultsPage client={client} />;
    case 'files':
      return <FilesPage client={client} />;
    case 'sessions':
      return <SessionList client={client} />;
  }
}
