import { parseArgs } from 'node:util';
import { KeelClient } from '../client';
import { ConfigError, readConfig } from '../common/config';
import type { KeelConfig } from '../common/config';
import { readApiKey } from './api-key';
import { keys } from './keys';
import { run } from './run';
import { server } from './server';
import { up } from './up';
import { worker } from './worker';

const USAGE = `Usage: keel <command>

  keel up                 start Keel on this machine (Temporal dev server, worker, HTTP API)
  keel server             the HTTP API alone, on the Temporal cluster at TEMPORAL_ADDRESS
  keel worker             a worker alone, polling TEMPORAL_ADDRESS (default: keel up's dev server)
  keel run "<prompt>"     run a session on the running Keel and stream it; exits 0 when the turn ends well
  keel sessions           list sessions
  keel events <session>   print a session's events, one JSON object a line
  keel keys create [name] [--environment <env id>]  create an API key (printed once; with --environment, a
                           self-hosted environment's key), or: keel keys list, keel keys revoke <id>

The commands other than up reach KEEL_URL (default http://KEEL_HOST:KEEL_PORT) with KEEL_API_KEY
(default: the key \`keel up\` keeps in the data folder).`;

/** Builds a client for the running Keel named by the configuration. */
function clientFor(config: KeelConfig): KeelClient {
  const apiKey = config.server.apiKey ?? readApiKey(config.dataDir);
  if (apiKey === undefined)
    throw new ConfigError('KEEL_API_KEY: not set, and no key in the data folder: is `keel up` running?');
  const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
  return new KeelClient({ baseUrl: config.server.url ?? `http://${host}:${config.server.port}`, apiKey });
}

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  const config = readConfig();
  switch (command) {
    case 'up':
      await up(config);
      return 0;
    case 'server':
      await server(config);
      return 0;
    case 'worker':
      await worker(config);
      return 0;
    case 'run': {
      const prompt = rest.join(' ').trim();
      if (prompt === '') throw new ConfigError('keel run: give the prompt, e.g. keel run "run: echo hello"');
      return run(clientFor(config), prompt, process.stdout);
    }
    case 'keys':
      return keys(config, rest, (line) => console.log(line));
    case 'sessions': {
      for (const session of await clientFor(config).listSessions(50)) {
        console.log(`${session.id}  ${session.status.padEnd(10)}  ${session.created_at}  ${session.title ?? ''}`);
      }
      return 0;
    }
    case 'events': {
      const sessionId = rest[0];
      if (sessionId === undefined) throw new ConfigError('keel events: give the session id');
      const client = clientFor(config);
      let page: string | undefined;
      do {
        const result = await client.listEvents(sessionId, { limit: 500, ...(page ? { page } : {}) });
        for (const event of result.data) console.log(JSON.stringify(event));
        page = result.next_page ?? undefined;
      } while (page !== undefined);
      return 0;
    }
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? `keel: ${error.message}` : error);
    process.exit(1);
  },
);
