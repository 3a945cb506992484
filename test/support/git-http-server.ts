import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** What the server answers for: the one token it accepts (any user name), and repositories it refuses with 403. */
export interface GitHttpServerOptions {
  token: string;
  /** `owner/repo` names answered with 403 once authenticated. */
  forbidden?: string[];
}

/** What `addRepository` hands its callback: git in the new repository's work tree, and a file writer. */
export interface RepositoryBuilder {
  git: (...args: string[]) => string;
  write: (file: string, content: string) => void;
}

/**
 * A stand-in for GitHub on loopback: real `git http-backend` (smart HTTP, as CGI) behind HTTP basic auth. It accepts
 * one token as the password with any user name, answers 401 without it or with another one, 403 for a forbidden
 * repository and 404 for one it does not have. Repositories are bare ones under a temporary root, made with `git`.
 */
export class GitHttpServer {
  /** The user names of requests that carried the right token, in order. */
  readonly authorizedUsers: string[] = [];

  private readonly server: Server;

  private constructor(
    private readonly root: string,
    private readonly options: GitHttpServerOptions,
    private readonly backend: { program: string; path: string },
  ) {
    this.server = createServer((request, response) => this.handle(request, response));
  }

  /** Starts the server on 127.0.0.1 and a free port. */
  static async start(options: GitHttpServerOptions): Promise<GitHttpServer> {
    const root = mkdtempSync(path.join(tmpdir(), 'keel-git-server-'));
    const execPath = execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim();
    const backend = {
      program: path.join(execPath, 'git-http-backend'),
      path: `${execPath}:/usr/local/bin:/usr/bin:/bin`,
    };
    const instance = new GitHttpServer(root, options, backend);
    await new Promise<void>((resolve) => instance.server.listen(0, '127.0.0.1', resolve));
    return instance;
  }

  /** `host:port`, as `KEEL_REPOSITORY_HOSTS` lists it. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The URL of a repository path such as `acme/app.git`. */
  url(repositoryPath: string): string {
    return `http://${this.host}/${repositoryPath}`;
  }

  /**
   * Makes the bare repository `owner/repo` (on `main`) from what `populate` commits in a work tree; returns the
   * callback's result (commit ids, say).
   */
  addRepository<Result>(fullName: string, populate: (builder: RepositoryBuilder) => Result): Result {
    const work = mkdtempSync(path.join(tmpdir(), 'keel-git-work-'));
    const git = (...args: string[]): string =>
      execFileSync('git', ['-C', work, '-c', 'user.name=Keel Test', '-c', 'user.email=test@keel.invalid', ...args], {
        encoding: 'utf8',
      }).trim();
    try {
      git('init', '--quiet', '--initial-branch=main');
      const result = populate({ git, write: (file, content) => writeFileSync(path.join(work, file), content) });
      const bare = path.join(this.root, `${fullName}.git`);
      mkdirSync(path.dirname(bare), { recursive: true });
      execFileSync('git', ['clone', '--quiet', '--bare', work, bare]);
      return result;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** Stops the server and removes the repositories. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.root, { recursive: true, force: true });
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://git.invalid');
    const user = this.authorizedUser(request.headers.authorization);
    if (user === null) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="keel test git"' }).end('Authentication required');
      return;
    }
    this.authorizedUsers.push(user);
    const [owner = '', name = '', ...rest] = url.pathname.split('/').filter((segment) => segment !== '');
    const repository = `${owner}/${name.replace(/\.git$/, '')}`;
    if (this.options.forbidden?.includes(repository)) {
      response.writeHead(403).end('Forbidden');
      return;
    }
    if (!existsSync(path.join(this.root, `${repository}.git`))) {
      response.writeHead(404).end('Not found');
      return;
    }
    this.runBackend(request, response, user, `/${repository}.git/${rest.join('/')}`, url.search.replace(/^\?/, ''));
  }

  /** The user name of a basic `authorization` header with the token as its password, or `null`. */
  private authorizedUser(header: string | undefined): string | null {
    const encoded = /^Basic\s+(\S+)$/i.exec(header ?? '')?.[1];
    if (encoded === undefined) return null;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0 || decoded.slice(colon + 1) !== this.options.token) return null;
    return decoded.slice(0, colon);
  }

  /** Runs `git http-backend` as CGI for one request and relays its answer (its `Status` header included). */
  private runBackend(
    request: IncomingMessage,
    response: ServerResponse,
    user: string,
    pathInfo: string,
    query: string,
  ): void {
    const header = (name: string): Record<string, string> => {
      const value = request.headers[name.toLowerCase()];
      return typeof value === 'string' ? { [`HTTP_${name.toUpperCase().replace(/-/g, '_')}`]: value } : {};
    };
    const child = spawn(this.backend.program, [], {
      env: {
        PATH: this.backend.path,
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: pathInfo,
        QUERY_STRING: query,
        REQUEST_METHOD: request.method ?? 'GET',
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        REMOTE_USER: user,
        REMOTE_ADDR: request.socket.remoteAddress ?? '127.0.0.1',
        ...header('Content-Encoding'),
        ...header('Git-Protocol'),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    request.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersSent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        response.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      const endLength = end >= 0 ? 4 : 2;
      const at = end >= 0 ? end : head.indexOf('\n\n');
      if (at < 0) return;
      let status = 200;
      for (const line of head.subarray(0, at).toString('utf8').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else response.setHeader(name, value);
      }
      response.writeHead(status);
      headersSent = true;
      response.write(head.subarray(at + endLength));
    });
    child.stdout.on('end', () => {
      if (!headersSent) response.writeHead(502);
      response.end();
    });
  }
}
