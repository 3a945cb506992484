import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { AGENT_WORKLOAD_DYNAMIC_CONFIG, KEEL_SEARCH_ATTRIBUTES } from '../cli/temporal-dev-server';
import { parseConfig, PROJECT_ROOT } from '../common/config';
import type { KeelConfig } from '../common/config';
import { generateSecretKey } from '../common/secret-box';

/**
 * The deployment files (deploy/) cannot be run here: no registry, so no image, no compose, no cluster. These tests
 * keep them from rotting: every Keel variable they set is one `parseConfig` reads and accepts, servers and workers
 * share the stores, the keys and the Temporal namespace, and the worker reaches a Docker engine.
 */

const DEPLOY = path.join(PROJECT_ROOT, 'deploy');

type Environment = Record<string, string>;

/** Values a user would put in keel.env (or the Kubernetes Secret) where the files leave a blank or `change-me`. */
const SAMPLE_SECRETS: Environment = {
  POSTGRES_PASSWORD: 'samplepassword',
  KEEL_API_KEY: 'keel_sample',
  KEEL_SECRET_KEY: Buffer.from(generateSecretKey()).toString('base64'),
  KEEL_S3_ACCESS_KEY_ID: 'sampleaccesskey',
  KEEL_S3_SECRET_ACCESS_KEY: 'samplesecretkey',
  KEEL_MODEL_API_KEY: 'sample-model-key',
};

/** The variables Keel reads: the keys of the schema in common/config.ts, the one file that reads the environment. */
function variablesKeelReads(): Set<string> {
  const source = readFileSync(path.join(PROJECT_ROOT, 'common', 'config.ts'), 'utf8');
  const schema = /const environmentSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source)?.[1];
  if (schema === undefined) throw new Error('environmentSchema not found in common/config.ts');
  return new Set([...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1]!));
}

/** Names that look like Keel's own (and so must be ones it reads): a typo there would be silently ignored. */
function looksLikeKeels(name: string): boolean {
  return /^(KEEL|TEMPORAL|OTEL|ANTHROPIC)_/.test(name);
}

function mapping(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: not a mapping`);
  return value as Record<string, unknown>;
}

function sequence(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: not a list`);
  return value;
}

function scalar(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${what}: not a scalar`);
}

/** `NAME=value` lines of an env file; with `commented`, the commented-out `# NAME=value` examples too. */
function readEnvFile(file: string, options: { commented: boolean }): Environment {
  const environment: Environment = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match === null || (match[1] !== undefined && !options.commented)) continue;
    environment[match[2]!] = match[3]!;
  }
  return environment;
}

/** Compose's interpolation: `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`, `$$`. */
function interpolate(value: string, variables: Environment): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
    (whole: string, name: string | undefined, operator: string | undefined, argument: string | undefined) => {
      if (whole === '$$' || name === undefined) return '$';
      const current = variables[name];
      const missing = operator?.startsWith(':') ? current === undefined || current === '' : current === undefined;
      if (!missing) return current ?? '';
      if (operator?.endsWith('?')) throw new Error(`compose would stop: ${name}: ${argument ?? ''}`);
      return argument ?? '';
    },
  );
}

/** Every string of a parsed YAML document, interpolated. */
function interpolateAll(value: unknown, variables: Environment): unknown {
  if (typeof value === 'string') return interpolate(value, variables);
  if (Array.isArray(value)) return value.map((item) => interpolateAll(item, variables));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateAll(item, variables)]));
  }
  return value;
}

/** The configuration a process would run with; throws, as Keel's start-up does, on a bad value. */
function configOf(environment: Environment): KeelConfig {
  return parseConfig(environment);
}

/** What every server and worker of one Keel must agree on. */
function sharedPart(config: KeelConfig): unknown {
  return {
    temporal: { address: config.temporal.address, namespace: config.temporal.namespace },
    database: config.database,
    blobStore: config.blobStore,
    secretKey: Buffer.from(config.secretKey ?? new Uint8Array()).toString('base64'),
    dataDir: config.dataDir,
  };
}

describe('deploy/docker-compose.yml with deploy/keel.env.example', () => {
  const composeText = readFileSync(path.join(DEPLOY, 'docker-compose.yml'), 'utf8');
  const examplePath = path.join(DEPLOY, 'keel.env.example');
  // The keel.env a user writes: the example, its commented-out examples turned on, and the blanks filled in.
  const example = readEnvFile(examplePath, { commented: true });
  const keelEnv: Environment = Object.fromEntries(
    Object.entries(example).map(([name, value]) => [name, value === '' ? (SAMPLE_SECRETS[name] ?? '') : value]),
  );
  const compose = mapping(interpolateAll(parse(composeText, { merge: true }), keelEnv), 'compose file');
  const services = mapping(compose['services'], 'services');
  const keelServices = Object.entries(services).filter(
    ([, service]) => mapping(service, 'service')['image'] === 'keel:local' && 'command' in mapping(service, 'service'),
  );

  /** A Keel service's environment: keel.env (its env_file) under the service's own `environment`. */
  function environmentOf(name: string): Environment {
    const service = mapping(services[name], name);
    expect(service['env_file']).toBe('keel.env');
    const own = mapping(service['environment'], `${name}.environment`);
    return { ...keelEnv, ...Object.fromEntries(Object.entries(own).map(([key, value]) => [key, scalar(value, key)])) };
  }

  function commandOf(name: string): string {
    return scalar(sequence(mapping(services[name], name)['command'], `${name}.command`)[0], `${name}.command`);
  }

  const servers = keelServices.filter(([name]) => commandOf(name) === 'server').map(([name]) => name);
  const workers = keelServices.filter(([name]) => commandOf(name) === 'worker').map(([name]) => name);

  it('runs two servers and a worker, and every variable it and the example set is one Keel reads', () => {
    expect(servers.length).toBeGreaterThanOrEqual(2);
    expect(workers).toHaveLength(1);
    const known = variablesKeelReads();
    const named = new Set([
      ...Object.keys(example),
      ...[...servers, ...workers].flatMap((name) => Object.keys(environmentOf(name))),
    ]);
    const unknown = [...named].filter((name) => looksLikeKeels(name) && !known.has(name));
    expect(unknown).toEqual([]);
  });

  it('gives each server and the worker an environment that parseConfig accepts, on PostgreSQL and S3', () => {
    for (const name of [...servers, ...workers]) {
      const config = configOf(environmentOf(name));
      expect(config.database.kind, name).toBe('postgres');
      expect(config.blobStore.kind, name).toBe('s3');
      expect(config.temporal.address, name).toBeDefined();
      expect(config.secretKey, name).toBeDefined();
      expect(config.server.apiKey, name).toBe(SAMPLE_SECRETS['KEEL_API_KEY']);
    }
    // On the host's network the servers must listen on ports of their own.
    const ports = servers.map((name) => configOf(environmentOf(name)).server.port);
    expect(new Set(ports).size).toBe(servers.length);
  });

  it('has the servers and the worker share the database, the bucket, the secret key, Temporal and the data folder', () => {
    const [first, ...others] = [...servers, ...workers].map((name) => sharedPart(configOf(environmentOf(name))));
    for (const other of others) expect(other).toEqual(first);
  });

  it('mounts the Docker socket into the worker, and its files folder, writable, at the host path Docker uses', () => {
    for (const name of workers) {
      const volumes = sequence(mapping(services[name], name)['volumes'], `${name}.volumes`).map(String);
      expect(volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
      // The worker copies uploaded files there from the bucket; Docker bind-mounts them into sandboxes from the host.
      const filesFolder = path.join(configOf(environmentOf(name)).dataDir, 'files');
      expect(volumes).toContain(`${filesFolder}:${filesFolder}`);
    }
  });

  it('configures the stores with the credentials Keel uses', () => {
    const config = configOf(environmentOf(workers[0]!));
    const postgres = mapping(mapping(services['postgres'], 'postgres')['environment'], 'postgres.environment');
    expect(config.database).toEqual({
      kind: 'postgres',
      url: expect.stringContaining(
        `://${scalar(postgres['POSTGRES_USER'], 'user')}:${scalar(postgres['POSTGRES_PASSWORD'], 'password')}@`,
      ),
    });
    const seaweed = mapping(mapping(compose['configs'], 'configs')['seaweedfs-s3'], 'seaweedfs-s3');
    const identities = JSON.parse(scalar(seaweed['content'], 'content')) as {
      identities: Array<{ credentials: Array<{ accessKey: string; secretKey: string }> }>;
    };
    if (config.blobStore.kind !== 's3') throw new Error('the worker does not use the S3 blob store');
    expect(identities.identities[0]?.credentials[0]).toEqual({
      accessKey: config.blobStore.accessKeyId,
      secretKey: config.blobStore.secretAccessKey,
    });
  });

  it('starts Temporal as keel up does: its namespace, Keel’s search attributes and the dev server’s dynamic config', () => {
    const command = sequence(mapping(services['temporal'], 'temporal')['command'], 'temporal.command').map(String);
    const namespace = configOf(environmentOf(workers[0]!)).temporal.namespace;
    expect(command).toContain(`--namespace=${namespace}`);
    for (const [name, type] of Object.entries(KEEL_SEARCH_ATTRIBUTES)) {
      expect(command).toContain(`--search-attribute=${name}=${type}`);
    }
    for (const [key, value] of Object.entries(AGENT_WORKLOAD_DYNAMIC_CONFIG)) {
      expect(command).toContain(`--dynamic-config-value=${key}=${value}`);
    }
  });

  it('lists in keel.env.example every variable the compose file requires', () => {
    const required = [...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?/g)].map((match) => match[1]!);
    expect(required.length).toBeGreaterThan(0);
    const listed = readEnvFile(examplePath, { commented: false });
    expect(required.filter((name) => !(name in listed))).toEqual([]);
  });
});

describe('deploy/kubernetes/keel.yaml', () => {
  const documents = parseAllDocuments(readFileSync(path.join(DEPLOY, 'kubernetes', 'keel.yaml'), 'utf8'))
    .map((document) => document.toJS() as unknown)
    .filter((document) => document !== null)
    .map((document) => mapping(document, 'manifest'));

  function resource(kind: string, name: string): Record<string, unknown> {
    const found = documents.find(
      (document) => document['kind'] === kind && mapping(document['metadata'], 'metadata')['name'] === name,
    );
    if (found === undefined) throw new Error(`no ${kind} ${name}`);
    return found;
  }

  function podSpec(deployment: string): Record<string, unknown> {
    const spec = mapping(resource('Deployment', deployment)['spec'], 'spec');
    return mapping(mapping(spec['template'], 'template')['spec'], 'pod spec');
  }

  function container(deployment: string, name: string): Record<string, unknown> {
    const pod = podSpec(deployment);
    const all = [...sequence(pod['containers'], 'containers'), ...sequence(pod['initContainers'] ?? [], 'init')];
    const found = all.map((item) => mapping(item, 'container')).find((item) => item['name'] === name);
    if (found === undefined) throw new Error(`no container ${name} in ${deployment}`);
    return found;
  }

  /** A container's environment: its ConfigMaps and Secrets (`envFrom`), then its own `env`. */
  function environmentOf(deployment: string, name: string): Environment {
    const environment: Environment = {};
    const spec = container(deployment, name);
    for (const source of sequence(spec['envFrom'], 'envFrom').map((item) => mapping(item, 'envFrom'))) {
      if ('configMapRef' in source) {
        const configMap = resource('ConfigMap', scalar(mapping(source['configMapRef'], 'ref')['name'], 'name'));
        for (const [key, value] of Object.entries(mapping(configMap['data'], 'data')))
          environment[key] = scalar(value, key);
      } else {
        const secret = resource('Secret', scalar(mapping(source['secretRef'], 'ref')['name'], 'name'));
        for (const [key, value] of Object.entries(mapping(secret['stringData'], 'stringData'))) {
          const text = scalar(value, key);
          environment[key] = text === 'change-me' ? (SAMPLE_SECRETS[key] ?? text) : text;
        }
      }
    }
    for (const variable of sequence(spec['env'] ?? [], 'env').map((item) => mapping(item, 'env'))) {
      if ('value' in variable) environment[scalar(variable['name'], 'name')] = scalar(variable['value'], 'value');
    }
    return environment;
  }

  function mountPaths(deployment: string, name: string): Map<string, string> {
    const mounts = sequence(container(deployment, name)['volumeMounts'], 'volumeMounts').map((item) =>
      mapping(item, 'volumeMount'),
    );
    return new Map(mounts.map((mount) => [scalar(mount['mountPath'], 'mountPath'), scalar(mount['name'], 'name')]));
  }

  it('sets only variables Keel reads, and each Deployment’s environment passes parseConfig', () => {
    const known = variablesKeelReads();
    for (const [deployment, name] of [
      ['keel-server', 'server'],
      ['keel-worker', 'worker'],
    ] as const) {
      const environment = environmentOf(deployment, name);
      expect(Object.keys(environment).filter((key) => looksLikeKeels(key) && !known.has(key))).toEqual([]);
      const config = configOf(environment);
      expect(config.database.kind).toBe('postgres');
      expect(config.blobStore.kind).toBe('s3');
      expect(config.temporal.address).toBeDefined();
      expect(config.sandbox.image).toBeDefined();
    }
  });

  it('has the servers and the worker share the database, the bucket, the secret key, Temporal and the data folder', () => {
    const server = sharedPart(configOf(environmentOf('keel-server', 'server')));
    expect(sharedPart(configOf(environmentOf('keel-worker', 'worker')))).toEqual(server);
  });

  it('runs two servers, ready on /health at the port they listen on, behind the Service', () => {
    const deployment = resource('Deployment', 'keel-server');
    expect(mapping(deployment['spec'], 'spec')['replicas']).toBe(2);
    const server = container('keel-server', 'server');
    const port = configOf(environmentOf('keel-server', 'server')).server.port;
    const ports = sequence(server['ports'], 'ports').map((item) => mapping(item, 'port'));
    expect(ports).toContainEqual({ name: 'http', containerPort: port });
    const probe = mapping(mapping(server['readinessProbe'], 'readinessProbe')['httpGet'], 'httpGet');
    expect(probe).toEqual({ path: '/health', port: 'http' });
    const podLabels = mapping(mapping(mapping(deployment['spec'], 'spec')['template'], 'template')['metadata'], 'meta');
    const selector = mapping(mapping(resource('Service', 'keel')['spec'], 'spec')['selector'], 'selector');
    expect(mapping(podLabels['labels'], 'labels')).toMatchObject(selector);
  });

  it('gives the worker the Docker socket of its sidecar engine, and the files folder at the engine’s path', () => {
    const environment = environmentOf('keel-worker', 'worker');
    const socket = /^unix:\/\/(.+)$/.exec(environment['DOCKER_HOST'] ?? '')?.[1];
    expect(socket).toBeDefined();
    const socketFolder = path.dirname(socket!);
    const engine = container('keel-worker', 'docker');
    expect(engine['restartPolicy']).toBe('Always');
    expect(sequence(engine['args'], 'args')).toContain(`--host=unix://${socket!}`);
    expect(mountPaths('keel-worker', 'worker').get(socketFolder)).toBe(
      mountPaths('keel-worker', 'docker').get(socketFolder),
    );
    expect(mountPaths('keel-worker', 'worker').get(socketFolder)).toBeDefined();
    // The worker copies uploaded files from the bucket into its files folder, and the engine resolves a sandbox's
    // file mounts in its own file system: the same volume at the same path.
    const filesFolder = path.join(configOf(environment).dataDir, 'files');
    const filesVolume = mountPaths('keel-worker', 'worker').get(filesFolder);
    expect(filesVolume).toBeDefined();
    expect(mountPaths('keel-worker', 'docker').get(filesFolder)).toBe(filesVolume);
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');

  it('copies every top-level folder of source the processes load', () => {
    const skipped = new Set(['node_modules', 'test', 'bench', 'scripts', 'deploy']);
    const holdsSource = (folder: string): boolean =>
      readdirSync(folder, { recursive: true, withFileTypes: true }).some(
        (entry) => entry.isFile() && /\.(ts|cjs|py)$/.test(entry.name),
      );
    const folders = readdirSync(PROJECT_ROOT, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !skipped.has(entry.name))
      .map((entry) => entry.name)
      .filter((name) => holdsSource(path.join(PROJECT_ROOT, name)));
    expect(folders).toContain('workflows');
    const copied = [...dockerfile.matchAll(/^COPY (\S+) \.\/\1$/gm)].map((match) => match[1]);
    expect(folders.filter((name) => !copied.includes(name))).toEqual([]);
  });

  it('copies patches/ before npm ci, which applies them with patch-package, a runtime dependency', () => {
    const copyPatches = dockerfile.indexOf('COPY patches ./patches');
    expect(copyPatches).toBeGreaterThan(-1);
    expect(copyPatches).toBeLessThan(dockerfile.indexOf('RUN npm ci'));
    const packageJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    // A patch made for another version of its package stops the install (patches/README.md).
    expect(packageJson.scripts['postinstall']).toBe('patch-package --error-on-fail --error-on-warn');
    expect(Object.keys(packageJson.dependencies)).toContain('patch-package');
  });

  it('installs runtime dependencies only, which is enough because tsx and the Temporal bundler are among them', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const packageJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(packageJson.dependencies)).toEqual(expect.arrayContaining(['tsx', '@temporalio/worker']));
  });
});
