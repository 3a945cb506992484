import { parseArgs } from 'node:util';
import { KeelClient } from '../client';
import { ConfigError, readConfig } from '../common/config';
import type { KeelConfig } from '../common/config';
import { readApiKey } from './api-key';
import { chat } from './chat';
import { events } from './events';
import { keys } from './keys';
import { run } from './run';
import { server } from './server';
import { up } from './up';
import { worker } from './worker';

const USAGE = `Usage: keel <command>

  keel up                 start Keel on this machine (Temporal dev server, worker, HTTP API)
  keel server             the HTTP API alone, on the Temporal cluster at TEMPORAL_ADDRESS
  keel worker             a worker alone, polling TEMPORAL_ADDRESS (default: keel up's dev server)
  keel run [--session <id>] "<prompt>"
                          run a session (a new one, or continue <id>) on the running Keel and stream it; exits 0
                          when the turn ends well
  keel chat [--agent <id>] [--session <id>]
                          talk with a new session of the agent (default: the server's), or continue <id>; asks
                          y/N for tool calls that need approval; Ctrl-C interrupts a turn, twice (or Ctrl-D) exits
  keel sessions           list sessions
  keel events [--follow] <session>
                          print a session's events, one JSON object a line; --follow goes on live until it ends
  keel keys create [name] [--workspace <name>] [--environment <env id>] [--admin]
                          create an API key (printed once) acting in a workspace (default: default; created if new;
                          with --environment, a self-hosted environment's key; with --admin, a key that may also use
                          the Admin API, /v1/organizations/…), or: keel keys list, keel keys revoke <id>

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
  const [command, ...rest] = argv;
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
      const { values, positionals } = parseArgs({
        args: rest,
        options: { session: { type: 'string' } },
        allowPositionals: true,
      });
      const prompt = positionals.join(' ').trim();
      if (prompt === '') throw new ConfigError('keel run: give the prompt, e.g. keel run "run: echo hello"');
      return run(
        clientFor(config),
        prompt,
        process.stdout,
        values.session === undefined ? {} : { sessionId: values.session },
      );
    }
    case 'chat': {
      const { values } = parseArgs({
        args: rest,
        options: { agent: { type: 'string' }, session: { type: 'string' } },
      });
      if (values.agent !== undefined && values.session !== undefined) {
        throw new ConfigError('keel chat: give --agent for a new session or --session to continue one, not both');
      }
      return chat(
        clientFor(config),
        {
          ...(values.agent === undefined ? {} : { agentId: values.agent }),
          ...(values.session === undefined ? {} : { sessionId: values.session }),
        },
        { input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY },
      );
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
      const { values, positionals } = parseArgs({
        args: rest,
        options: { follow: { type: 'boolean' } },
        allowPositionals: true,
      });
      const sessionId = positionals[0];
      if (sessionId === undefined) throw new ConfigError('keel events: give the session id');
      return events(
        clientFor(config),
        sessionId,
        { follow: values.follow ?? false },
        (line) => console.log(line),
        (line) => console.error(line),
      );
    }
    default:
      console.error(USAGE);
      return command === undefined || ['help', '--help', '-h'].includes(command) ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? `keel: ${error.message}` : error);
    process.exit(1);
  },
);
