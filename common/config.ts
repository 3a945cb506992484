import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseRepositoryHosts } from './repository-url';
import { decodeSecretKey } from './secret-box';
import { parseDollarsPerMillion } from './list-price';
import type { ModelListPrice } from './list-price';

/** The project folder, where set-up leaves its tools and the embedded default keeps its data. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** The key that seals vault secrets: the base64 of 32 bytes; the message never repeats the value, a secret. */
const secretKey = optionalText.transform((value, context) => {
  if (value === undefined) return undefined;
  const key = decodeSecretKey(value);
  if (key === null) {
    context.addIssue({
      code: 'custom',
      message: 'expected the base64 of 32 random bytes (make one with: openssl rand -base64 32)',
    });
    return z.NEVER;
  }
  return key;
});

/** `model=tokens` pairs separated by commas: context windows that override Keel's table of known models. */
const contextWindows = optionalText.transform((value, context) => {
  const windows: Record<string, number> = {};
  if (value === undefined) return windows;
  for (const pair of value.split(',')) {
    const match = /^\s*([^=\s]+)\s*=\s*(\d+)\s*$/.exec(pair);
    const tokens = match ? Number(match[2]) : NaN;
    if (!match?.[1] || !Number.isSafeInteger(tokens) || tokens < 1_000) {
      context.addIssue({
        code: 'custom',
        message: `expected model=tokens pairs separated by commas (tokens at least 1000), such as my-model=100000; got "${pair}"`,
      });
      return z.NEVER;
    }
    windows[match[1]] = tokens;
  }
  return windows;
});

/**
 * `model=input/output/write5m/write1h/read` entries separated by commas, in US dollars per million tokens: list prices
 * that add to or override Keel's table of known models (`common/list-price.ts`), for session budgets.
 */
const modelPrices = optionalText.transform((value, context) => {
  const prices: Record<string, ModelListPrice> = {};
  if (value === undefined) return prices;
  for (const entry of value.split(',')) {
    const match = /^\s*([^=\s]+)\s*=\s*([^=]+)$/.exec(entry);
    const figures = (match?.[2] ?? '').split('/').map(parseDollarsPerMillion);
    const [input, output, cacheWrite5m, cacheWrite1h, cacheRead] = figures;
    if (
      !match?.[1] ||
      figures.length !== 5 ||
      input == null ||
      output == null ||
      cacheWrite5m == null ||
      cacheWrite1h == null ||
      cacheRead == null
    ) {
      context.addIssue({
        code: 'custom',
        message:
          'expected model=input/output/write5m/write1h/read entries separated by commas, in US dollars per million ' +
          `tokens with at most 3 decimals, such as my-model=3/15/3.75/6/0.3; got "${entry}"`,
      });
      return z.NEVER;
    }
    prices[match[1]] = { input, output, cacheWrite5m, cacheWrite1h, cacheRead };
  }
  return prices;
});

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
/** The smallest workspace disk quota, 32 MiB: an ext4 file system needs a few MB of its own. */
const MIN_DISK_QUOTA_BYTES = 32 * 1024 ** 2;

/**
 * A workspace's disk quota: a size in bytes or with a binary unit (`10G`, `512M`, `64MiB`, `1.5g`), or `off` for none;
 * `undefined` (no quota) only from `off`.
 */
const diskQuota = z
  .string()
  .default('10G')
  .transform((value, context) => {
    const text = value.trim().toLowerCase();
    if (text === 'off') return undefined;
    const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/.exec(text);
    const bytes = match ? Math.floor(Number(match[1]) * (SIZE_UNITS[match[2] ?? ''] ?? NaN)) : NaN;
    if (!Number.isSafeInteger(bytes) || bytes < MIN_DISK_QUOTA_BYTES) {
      context.addIssue({
        code: 'custom',
        message: `expected a size of at least 32M, such as 10G or 512M (binary units), or off for no quota; got "${value}"`,
      });
      return z.NEVER;
    }
    return bytes;
  });

/** `host[:port]` entries separated by commas: the repository hosts besides github.com (see `checkRepositoryUrl`). */
const repositoryHosts = z
  .string()
  .default('')
  .transform((value, context) => {
    const parsed = parseRepositoryHosts(value);
    if ('hosts' in parsed) return parsed.hosts;
    context.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  });

/** A URL variable; empty counts as unset, like the other optional variables. */
const optionalUrl = optionalText.pipe(z.url({ message: 'expected a URL such as http://127.0.0.1:8080' }).optional());

/** The object store's URL, without credentials in it: they have their own variables, and URLs get logged. */
const s3Endpoint = optionalUrl.refine((value) => value === undefined || !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value), {
  message: 'expected a URL without user or password in it (set KEEL_S3_ACCESS_KEY_ID and KEEL_S3_SECRET_ACCESS_KEY)',
});

/** An S3 bucket name: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit. */
const s3Bucket = optionalText.refine(
  (value) => value === undefined || /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value),
  {
    message: 'expected a bucket name: 3 to 63 lower-case letters, digits, dots and hyphens, such as keel-blobs',
  },
);

/** A key prefix in the bucket: path parts separated by `/`; stored with one trailing `/` (`keel` → `keel/`). */
const s3Prefix = optionalText.transform((value, context) => {
  if (value === undefined) return '';
  const parts = value.replace(/^\/+|\/+$/g, '').split('/');
  if (parts.some((part) => !/^[a-zA-Z0-9_.-]+$/.test(part) || part === '.' || part === '..')) {
    context.addIssue({
      code: 'custom',
      message: 'expected path parts of letters, digits, `_`, `-` and `.` separated by `/`, such as keel/production',
    });
    return z.NEVER;
  }
  return `${parts.join('/')}/`;
});

/** The control plane's PostgreSQL URL; the message never repeats the value, which holds a password. */
const databaseUrl = optionalText.refine((value) => value === undefined || /^postgres(ql)?:\/\/[^/]+/.test(value), {
  message: 'expected a PostgreSQL URL such as postgres://keel:password@db.internal:5432/keel',
});

/** An OTLP protocol Keel's exporters speak: OTLP over HTTP, protobuf (the OpenTelemetry default) or JSON. */
const otlpProtocol = optionalText.pipe(
  z
    .enum(['http/protobuf', 'http/json'], {
      message: 'expected http/protobuf or http/json (Keel exports traces over OTLP/HTTP; grpc is not supported)',
    })
    .optional(),
);

/** A log level, in any case: `trace`, `debug`, `info`, `warn` or `error`. */
const logLevel = optionalText
  .transform((value) => value?.toLowerCase())
  .pipe(z.enum(['trace', 'debug', 'info', 'warn', 'error']).optional());

/** The variables `KEEL_BLOB_STORE=s3` needs; each missing one is named. */
const S3_REQUIRED = [
  'KEEL_S3_ENDPOINT',
  'KEEL_S3_BUCKET',
  'KEEL_S3_ACCESS_KEY_ID',
  'KEEL_S3_SECRET_ACCESS_KEY',
] as const;

const environmentSchema = z.object({
  KEEL_PORT: port(7070),
  KEEL_HOST: z.string().min(1).default('127.0.0.1'),
  KEEL_API_KEY: optionalText,
  KEEL_SECRET_KEY: secretKey,
  KEEL_DATA_DIR: z
    .string()
    .min(1)
    .default(path.join(PROJECT_ROOT, '.keel', 'data')),
  KEEL_URL: optionalUrl,
  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  KEEL_TEMPORAL_PORT: port(7233),
  KEEL_TEMPORAL_UI_PORT: port(8233),
  TEMPORAL_CLI_PATH: optionalText,
  PATH: z.string().default(''),
  KEEL_MODEL_BASE_URL: optionalUrl,
  ANTHROPIC_BASE_URL: optionalUrl,
  KEEL_MODEL_API_KEY: optionalText,
  ANTHROPIC_API_KEY: optionalText,
  KEEL_MODEL: z.string().min(1).default('claude-sonnet-5-5'),
  KEEL_SANDBOX_IMAGE: optionalText,
  KEEL_SANDBOX_PROVISIONING: z.enum(['lazy', 'eager']).default('lazy'),
  KEEL_SANDBOX_MEMORY_MB: positive(1024),
  KEEL_SANDBOX_CPUS: z.coerce.number().positive().max(64).default(1),
  KEEL_SANDBOX_PIDS: positive(256),
  KEEL_SANDBOX_CA_BUNDLE: optionalText.refine((value) => value === undefined || value === 'none' || existsSync(value), {
    message: 'expected the path of a readable CA bundle (PEM), or `none`',
  }),
  KEEL_SANDBOX_FIREWALL: z.enum(['iptables', 'off']).default('iptables'),
  KEEL_COMMAND_TIMEOUT_MS: positive(120_000),
  KEEL_TOOL_OUTPUT_MAX_BYTES: positive(30_000),
  KEEL_MAX_STEPS_PER_TURN: positive(5_000),
  /** Seconds a session may idle before its sandbox container stops (its workspace volume kept); 0: never. */
  KEEL_SANDBOX_IDLE_TIMEOUT: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(30 * 60),
  /** Each session workspace's disk quota (a loop-mounted ext4 image); `off`: none. */
  KEEL_SANDBOX_DISK_QUOTA: diskQuota,
  /** Where the workspace disk images lie; `<KEEL_DATA_DIR>/workspace-disks` by default. */
  KEEL_SANDBOX_DISK_DIR: optionalText,
  /** Sandbox containers a worker keeps started ahead of sessions; 0 (the default): none. */
  KEEL_SANDBOX_WARM_POOL: z.coerce.number().int().min(0).max(1_000).default(0),
  KEEL_MODEL_CONTEXT_WINDOWS: contextWindows,
  KEEL_MODEL_PRICES: modelPrices,
  KEEL_CONTINUE_AS_NEW_AFTER_STEPS: positive(200),
  KEEL_MAX_MODEL_ATTEMPTS: positive(5),
  KEEL_WEB_SEARCH_SEARXNG_URL: optionalUrl,
  KEEL_REPOSITORY_HOSTS: repositoryHosts,
  /** The hosted Files API takes files up to 500 MB; 500 MiB never refuses a file it accepts. */
  KEEL_FILE_MAX_BYTES: positive(500 * 1024 * 1024),
  /** Requests per minute and API key; 0 (the default) turns the limit off. */
  KEEL_RATE_LIMIT_CREATE_PER_MINUTE: z.coerce.number().int().min(0).default(0),
  KEEL_RATE_LIMIT_READ_PER_MINUTE: z.coerce.number().int().min(0).default(0),
  /** Where `keel worker` serves its Prometheus metrics (`/metrics`); 0, the default, serves none. */
  KEEL_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  KEEL_DATABASE_URL: databaseUrl,
  KEEL_BLOB_STORE: z.enum(['folder', 's3']).default('folder'),
  KEEL_S3_ENDPOINT: s3Endpoint,
  KEEL_S3_REGION: optionalText.transform((value) => value ?? 'us-east-1'),
  KEEL_S3_BUCKET: s3Bucket,
  KEEL_S3_PREFIX: s3Prefix,
  KEEL_S3_ACCESS_KEY_ID: optionalText,
  KEEL_S3_SECRET_ACCESS_KEY: optionalText,
  /** `text` (the default): today's human-readable lines; `json`: one JSON object a line (see `LogConfig`). */
  KEEL_LOG_FORMAT: z.enum(['text', 'json']).default('text'),
  KEEL_LOG_LEVEL: logLevel,
  /** How far V8 lets a worker's heap grow past what the last full collection kept, in percent; 0: V8's own rule. */
  KEEL_WORKER_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(300).default(20),
  /** `on`: the Workflow threads record a stack trace of every Promise, for the `__stack_trace` Query; `off` (default). */
  KEEL_WORKFLOW_STACK_TRACES: z.enum(['on', 'off'], { message: 'expected on or off' }).default('off'),
  // OpenTelemetry's standard variables, the ones that turn tracing on or off and say where spans go. The OpenTelemetry
  // SDK reads its other variables itself (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*, ...).
  OTEL_SDK_DISABLED: optionalText,
  OTEL_TRACES_EXPORTER: optionalText.pipe(
    z.enum(['otlp', 'none'], { message: 'expected otlp or none (the exporters Keel has)' }).optional(),
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
  OTEL_SERVICE_NAME: optionalText,
});

/** Per-key rate limits in requests per minute; 0 turns one off. */
export interface RateLimits {
  createPerMinute: number;
  readPerMinute: number;
}

/** Keel's configuration, parsed and validated once from the environment. */
export interface KeelConfig {
  server: { host: string; port: number; apiKey: string | undefined; url: string | undefined };
  dataDir: string;
  /** The key that seals vault secrets at rest; when unset, one is generated into the data folder (`secret.key`). */
  secretKey: Uint8Array | undefined;
  temporal: {
    address: string | undefined;
    namespace: string;
    devServerPort: number;
    devServerUiPort: number;
    cliPath: string | undefined;
    /** The executable search path, where the `temporal` CLI may be found. */
    searchPath: string;
  };
  model: { baseUrl: string | undefined; apiKey: string | undefined; name: string };
  sandbox: {
    image: string | undefined;
    provisioning: 'lazy' | 'eager';
    memoryBytes: number;
    nanoCpus: number;
    pidsLimit: number;
    commandTimeoutMs: number;
    maxOutputBytes: number;
    /** The CA bundle package builds trust (pip, npm), mounted read-only; `undefined` for none. */
    caBundlePath: string | undefined;
    /** `iptables`: Keel keeps networked sandboxes off the host's own ports; `off`: the host is guarded otherwise. */
    firewall: 'iptables' | 'off';
    /** Containers each worker keeps started for sessions' first tool calls (`KEEL_SANDBOX_WARM_POOL`); 0: none. */
    warmPoolSize: number;
    /**
     * Each workspace's disk quota in bytes (`KEEL_SANDBOX_DISK_QUOTA`, 10 GiB by default), and the folder of the disk
     * images (`KEEL_SANDBOX_DISK_DIR`); `undefined` when the quota is `off`.
     */
    disk: { quotaBytes: number; directory: string } | undefined;
  };
  limits: {
    maxStepsPerTurn: number;
    continueAsNewAfterSteps: number;
    maxModelAttempts: number;
    sandboxIdleTimeoutMs: number;
    /** Context windows by model name that override the table of known models (`common/model-context.ts`). */
    contextWindows: Record<string, number>;
    /** List prices by model name that add to or override the table of known models (`common/list-price.ts`). */
    modelPrices: Record<string, ModelListPrice>;
  };
  /** Uploaded files: the largest accepted, in bytes. */
  files: { maxBytes: number };
  /** Per-key rate limits in requests per minute (0: off): creates (POST to a collection) and reads (GET). */
  rateLimits: RateLimits;
  /** The port of `keel worker`'s metrics endpoint (0: none); `keel up` serves its worker's at the API's `/metrics`. */
  workerMetricsPort: number;
  /** The `web_search` provider: a SearXNG instance's base URL; unset, `web_search` is not offered. */
  webSearch: { searxngUrl: string | undefined };
  /**
   * `github_repository` resources: the hosts (`host[:port]`) they may be cloned from besides github.com, and the
   * executable search path where the worker finds `git`.
   */
  repositories: { hosts: string[]; searchPath: string };
  /** Where the blob store keeps conversations, tool outputs, event archives and large Temporal payloads. */
  blobStore: BlobStoreConfig;
  /** The control-plane store: SQLite in `KEEL_DATA_DIR` (the embedded default) or PostgreSQL (`KEEL_DATABASE_URL`). */
  database: DatabaseConfig;
  /** OpenTelemetry traces; `undefined` (the default) when no `OTEL_*` variable asks for them: nothing is started. */
  tracing: TracingConfig | undefined;
  /** How the server and the worker log. */
  logs: LogConfig;
  /**
   * `KEEL_WORKER_HEAP_GROWING_PERCENT`: how far past its live data a process that hosts a worker lets V8 grow its heap
   * before the next full collection (20 by default; 0 keeps V8's own factor, which may be up to 4×). See
   * `limitHeapGrowth`.
   */
  workerHeapGrowingPercent: number;
  /**
   * `KEEL_WORKFLOW_STACK_TRACES=on`: the worker's Workflow threads answer Temporal's `__stack_trace` Query (the Web
   * UI's "Stack Trace" tab), at about 2 ms of CPU a tool step. Off by default. See `setWorkflowStackTraces`.
   */
  workflowStackTraces: boolean;
}

/**
 * Where a process sends its OpenTelemetry spans: an OTLP/HTTP endpoint. Tracing is on when `OTEL_TRACES_EXPORTER=otlp`
 * or an OTLP endpoint variable is set, unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
 */
export interface TracingConfig {
  /** The full URL spans are posted to (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else the base endpoint + `/v1/traces`). */
  endpoint: string;
  protocol: 'http/protobuf' | 'http/json';
  /** `OTEL_SERVICE_NAME`; unset, each process names itself (`keel`, `keel-server`, `keel-worker`). */
  serviceName: string | undefined;
}

/** A log level, from the most to the least verbose. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/**
 * How the processes log. `text`: human-readable lines, no per-request lines (what `keel up` prints). `json`: one JSON
 * object a line on stdout: a line per HTTP request with its request id and, when known, its session id; the worker's
 * Temporal logs (SDK, Workflow and Activity) with the session id.
 */
export interface LogConfig {
  format: 'text' | 'json';
  /** `KEEL_LOG_LEVEL`; unset, `info` for JSON and each process's own default for text. */
  level: LogLevel | undefined;
}

/**
 * The control-plane store of every worker and server of one Keel: the SQLite file `KEEL_DATA_DIR/keel.sqlite` (one
 * machine), or a PostgreSQL database (`KEEL_DATABASE_URL`, any number of machines).
 */
export type DatabaseConfig = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

/**
 * The blob store of every worker and server of one Keel: the folder `KEEL_DATA_DIR/blobs` (the embedded default), or
 * a bucket of an S3-compatible object store (the scale-out one).
 */
export type BlobStoreConfig =
  | { kind: 'folder' }
  | {
      kind: 's3';
      endpoint: string;
      region: string;
      bucket: string;
      /** Empty, or path parts ending with `/`. */
      prefix: string;
      accessKeyId: string;
      secretAccessKey: string;
    };

/** A configuration value that is wrong; its message names the variable and what it expects. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses `environment` into Keel's configuration, or throws a `ConfigError` naming every bad variable. */
export function parseConfig(environment: Record<string, string | undefined>): KeelConfig {
  const parsed = environmentSchema.safeParse(environment);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  problems.push(...missingS3Variables(environment));
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const value = parsed.data;
  return {
    server: { host: value.KEEL_HOST, port: value.KEEL_PORT, apiKey: value.KEEL_API_KEY, url: value.KEEL_URL },
    dataDir: path.resolve(value.KEEL_DATA_DIR),
    secretKey: value.KEEL_SECRET_KEY,
    temporal: {
      address: value.TEMPORAL_ADDRESS,
      namespace: value.TEMPORAL_NAMESPACE,
      devServerPort: value.KEEL_TEMPORAL_PORT,
      devServerUiPort: value.KEEL_TEMPORAL_UI_PORT,
      cliPath: value.TEMPORAL_CLI_PATH,
      searchPath: value.PATH,
    },
    model: {
      baseUrl: value.KEEL_MODEL_BASE_URL ?? value.ANTHROPIC_BASE_URL,
      apiKey: value.KEEL_MODEL_API_KEY ?? value.ANTHROPIC_API_KEY,
      name: value.KEEL_MODEL,
    },
    sandbox: {
      image: value.KEEL_SANDBOX_IMAGE ?? readSetupImageTag(),
      provisioning: value.KEEL_SANDBOX_PROVISIONING,
      memoryBytes: value.KEEL_SANDBOX_MEMORY_MB * 1024 * 1024,
      nanoCpus: Math.round(value.KEEL_SANDBOX_CPUS * 1e9),
      pidsLimit: value.KEEL_SANDBOX_PIDS,
      commandTimeoutMs: value.KEEL_COMMAND_TIMEOUT_MS,
      maxOutputBytes: value.KEEL_TOOL_OUTPUT_MAX_BYTES,
      caBundlePath: sandboxCaBundle(value.KEEL_SANDBOX_CA_BUNDLE),
      firewall: value.KEEL_SANDBOX_FIREWALL,
      warmPoolSize: value.KEEL_SANDBOX_WARM_POOL,
      disk:
        value.KEEL_SANDBOX_DISK_QUOTA === undefined
          ? undefined
          : {
              quotaBytes: value.KEEL_SANDBOX_DISK_QUOTA,
              directory: path.resolve(value.KEEL_SANDBOX_DISK_DIR ?? path.join(value.KEEL_DATA_DIR, 'workspace-disks')),
            },
    },
    limits: {
      maxStepsPerTurn: value.KEEL_MAX_STEPS_PER_TURN,
      continueAsNewAfterSteps: value.KEEL_CONTINUE_AS_NEW_AFTER_STEPS,
      maxModelAttempts: value.KEEL_MAX_MODEL_ATTEMPTS,
      sandboxIdleTimeoutMs: value.KEEL_SANDBOX_IDLE_TIMEOUT * 1000,
      contextWindows: value.KEEL_MODEL_CONTEXT_WINDOWS,
      modelPrices: value.KEEL_MODEL_PRICES,
    },
    files: { maxBytes: value.KEEL_FILE_MAX_BYTES },
    workerMetricsPort: value.KEEL_WORKER_METRICS_PORT,
    rateLimits: {
      createPerMinute: value.KEEL_RATE_LIMIT_CREATE_PER_MINUTE,
      readPerMinute: value.KEEL_RATE_LIMIT_READ_PER_MINUTE,
    },
    webSearch: { searxngUrl: value.KEEL_WEB_SEARCH_SEARXNG_URL },
    repositories: { hosts: value.KEEL_REPOSITORY_HOSTS, searchPath: value.PATH },
    blobStore: blobStoreConfig(value),
    database:
      value.KEEL_DATABASE_URL === undefined ? { kind: 'sqlite' } : { kind: 'postgres', url: value.KEEL_DATABASE_URL },
    tracing: tracingConfig(value),
    logs: { format: value.KEEL_LOG_FORMAT, level: value.KEEL_LOG_LEVEL },
    workerHeapGrowingPercent: value.KEEL_WORKER_HEAP_GROWING_PERCENT,
    workflowStackTraces: value.KEEL_WORKFLOW_STACK_TRACES === 'on',
  };
}

/** A problem for each variable that `KEEL_BLOB_STORE=s3` needs and `environment` leaves unset or empty. */
function missingS3Variables(environment: Record<string, string | undefined>): string[] {
  if (environment['KEEL_BLOB_STORE']?.trim() !== 's3') return [];
  return S3_REQUIRED.filter((name) => (environment[name] ?? '').trim() === '').map(
    (name) => `${name}: required when KEEL_BLOB_STORE=s3`,
  );
}

/** The blob store's configuration; `missingS3Variables` has checked that `s3` has every variable it needs. */
function blobStoreConfig(value: z.infer<typeof environmentSchema>): BlobStoreConfig {
  if (value.KEEL_BLOB_STORE === 'folder') return { kind: 'folder' };
  const required = (name: (typeof S3_REQUIRED)[number]): string => value[name] ?? '';
  return {
    kind: 's3',
    endpoint: required('KEEL_S3_ENDPOINT'),
    region: value.KEEL_S3_REGION,
    bucket: required('KEEL_S3_BUCKET'),
    prefix: value.KEEL_S3_PREFIX,
    accessKeyId: required('KEEL_S3_ACCESS_KEY_ID'),
    secretAccessKey: required('KEEL_S3_SECRET_ACCESS_KEY'),
  };
}

/**
 * The OpenTelemetry variables resolved as the specification reads them, except for the default: Keel traces nothing
 * unless `OTEL_TRACES_EXPORTER=otlp` or an OTLP endpoint is set (the specification's default exporter is `otlp`).
 */
function tracingConfig(value: z.infer<typeof environmentSchema>): TracingConfig | undefined {
  if (value.OTEL_SDK_DISABLED?.toLowerCase() === 'true' || value.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const base = value.OTEL_EXPORTER_OTLP_ENDPOINT;
  const traces = value.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (value.OTEL_TRACES_EXPORTER === undefined && base === undefined && traces === undefined) return undefined;
  return {
    endpoint: traces ?? `${(base ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`,
    protocol: value.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? value.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    serviceName: value.OTEL_SERVICE_NAME,
  };
}

/** Reads the configuration from this process's environment: the one place Keel reads `process.env`. */
export function readConfig(overrides: Record<string, string | undefined> = {}): KeelConfig {
  return parseConfig({ ...process.env, ...overrides });
}

/** The system CA bundle of Debian and its derivatives, which package builds trust when it is there. */
const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** `KEEL_SANDBOX_CA_BUNDLE` resolved: a path, `none`, or unset (the system bundle when present). */
function sandboxCaBundle(value: string | undefined): string | undefined {
  if (value === 'none') return undefined;
  if (value !== undefined) return path.resolve(value);
  return existsSync(SYSTEM_CA_BUNDLE) ? SYSTEM_CA_BUNDLE : undefined;
}

/** The sandbox image tag that `npm run setup` built, if it has run. */
function readSetupImageTag(): string | undefined {
  const file = path.join(PROJECT_ROOT, '.keel', 'sandbox-image');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}
