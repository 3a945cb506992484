import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { findFreePort } from '../../cli/temporal-dev-server';
import { PROJECT_ROOT } from '../../common/config';

/** The `weed` binary that `scripts/setup/seaweedfs.sh` builds. */
export const WEED_PATH = path.join(PROJECT_ROOT, '.keel', 'tools', 'seaweedfs', 'bin', 'weed');

/** A private SeaweedFS (master, volume server, filer and S3 gateway in one process) on loopback, for one test file. */
export interface SeaweedFs {
  /** The S3 endpoint, such as `http://127.0.0.1:40123`. */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** An S3 client of the store's one identity, path-style, as Keel's own. */
  client: S3Client;
  /** The `KEEL_*` variables of a Keel that keeps its blobs in `bucket` of this store. */
  keelEnvironment(bucket: string, prefix?: string): Record<string, string>;
  /** Every object key in `bucket` (under `prefix`), listed through the S3 API. */
  listKeys(bucket: string, prefix?: string): Promise<string[]>;
  /** Everything the server printed, for a failing test's message. */
  output(): string;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts `weed server` with its filer and S3 gateway on free ports of 127.0.0.1, its data in a fresh temporary folder
 * and one S3 identity with fresh keys, and waits until an object can be written and read through S3. Fails (never
 * skips) when the binary is missing: `npm run setup` builds it.
 */
export async function startSeaweedFs(): Promise<SeaweedFs> {
  if (!existsSync(WEED_PATH)) {
    throw new Error(`SeaweedFS is not built at ${WEED_PATH}: run npm run setup (scripts/setup/seaweedfs.sh builds it)`);
  }
  const folder = mkdtempSync(path.join(tmpdir(), 'keel-seaweedfs-'));
  const accessKeyId = `keel${randomBytes(8).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const identities = {
    identities: [
      {
        name: 'keel',
        credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }],
        actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'],
      },
    ],
  };
  writeFileSync(path.join(folder, 's3.json'), JSON.stringify(identities));
  mkdirSync(path.join(folder, 'data'));
  const port = {
    master: await findFreePort(),
    masterGrpc: await findFreePort(),
    volume: await findFreePort(),
    volumeGrpc: await findFreePort(),
    filer: await findFreePort(),
    filerGrpc: await findFreePort(),
    s3: await findFreePort(),
    s3Grpc: await findFreePort(),
  };
  const args = [
    '-logtostderr',
    'server',
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-dir=${path.join(folder, 'data')}`,
    `-master.port=${port.master}`,
    `-master.port.grpc=${port.masterGrpc}`,
    '-master.volumeSizeLimitMB=64',
    '-master.telemetry=false',
    `-volume.port=${port.volume}`,
    `-volume.port.grpc=${port.volumeGrpc}`,
    '-volume.max=0',
    // Stop at once on SIGTERM: nothing else reads from this volume server.
    '-volume.preStopSeconds=0',
    '-filer',
    `-filer.port=${port.filer}`,
    `-filer.port.grpc=${port.filerGrpc}`,
    `-filer.localSocket=${path.join(folder, 'filer.sock')}`,
    '-s3',
    `-s3.port=${port.s3}`,
    `-s3.port.grpc=${port.s3Grpc}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    `-s3.localSocket=${path.join(folder, 's3.sock')}`,
    `-s3.config=${path.join(folder, 's3.json')}`,
  ];
  // Its own HOME and working folder, so no SeaweedFS configuration of this machine (~/.seaweedfs, ./) applies.
  const child = spawn(WEED_PATH, args, {
    cwd: folder,
    env: { PATH: process.env['PATH'] ?? '', HOME: folder },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-64_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const endpoint = `http://127.0.0.1:${port.s3}`;
  const region = 'us-east-1';
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  const stop = async (): Promise<void> => {
    client.destroy();
    await stopChild(child, exited);
    rmSync(folder, { recursive: true, force: true });
    // Each gRPC service also listens on a Unix socket whose folder is fixed (/tmp), and not all are removed at exit.
    const services = { master: port.masterGrpc, volume: port.volumeGrpc, filer: port.filerGrpc, s3: port.s3Grpc };
    for (const [service, grpcPort] of Object.entries(services)) {
      rmSync(`/tmp/seaweedfs-${service}-grpc-${grpcPort}.sock`, { force: true });
    }
  };
  try {
    await untilReady(client, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    client,
    keelEnvironment: (bucket, prefix) => ({
      KEEL_BLOB_STORE: 's3',
      KEEL_S3_ENDPOINT: endpoint,
      KEEL_S3_REGION: region,
      KEEL_S3_BUCKET: bucket,
      KEEL_S3_ACCESS_KEY_ID: accessKeyId,
      KEEL_S3_SECRET_ACCESS_KEY: secretAccessKey,
      ...(prefix === undefined ? {} : { KEEL_S3_PREFIX: prefix }),
    }),
    listKeys: async (bucket, prefix) => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return keys;
    },
    output: () => output,
    stop,
  };
}

/**
 * Waits (60 s at most) until a bucket can be created and an object written, read and removed through S3: the
 * gateway answering is not enough, the filer and a volume server must have joined the master too.
 */
async function untilReady(client: S3Client, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  const Bucket = 'keel-ready-probe';
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`weed server exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`);
    }
    try {
      await client.send(new CreateBucketCommand({ Bucket })).catch((error: unknown) => {
        if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error;
      });
      await client.send(new PutObjectCommand({ Bucket, Key: 'probe', Body: 'ready' }));
      const read = await client.send(new GetObjectCommand({ Bucket, Key: 'probe' }));
      if ((await read.Body?.transformToString()) !== 'ready') throw new Error('the probe object read back wrong');
      await client.send(new DeleteObjectCommand({ Bucket, Key: 'probe' }));
      await client.send(new DeleteBucketCommand({ Bucket }));
      return;
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`SeaweedFS's S3 gateway was not ready within 60 s (last: ${String(last)}):\n${output()}`);
}

/**
 * Sends SIGTERM, and SIGKILL when the process has not exited 2 s later: `weed server`'s S3 gateway keeps retrying its
 * filer subscription for many seconds after the filer stopped, and the data is thrown away anyway.
 */
async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}
