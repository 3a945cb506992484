import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { BLOB_KEY_PATTERN } from '../common/blob-store';
import type { BlobStore } from '../common/blob-store';
import type { BlobStoreConfig } from '../common/config';
import { temporaryName } from './folder-blob-store';

/**
 * Where an `S3BlobStore` keeps its bodies, and the credentials it signs with (`KEEL_S3_*`): the endpoint (such as
 * `http://127.0.0.1:8333`), region, bucket, a prefix put before every key (`keel/` stores `conversation/…` as
 * `keel/conversation/…`; empty for none), and the key pair.
 */
export type S3BlobStoreOptions = Omit<Extract<BlobStoreConfig, { kind: 's3' }>, 'kind'>;

/**
 * The scale-out blob store: one object per key in a bucket of an S3-compatible store (AWS S3, SeaweedFS, MinIO…),
 * addressed path-style so stores without virtual-host buckets work. Every worker and server of one Keel shares it.
 * An object is written whole by one PUT, so a reader never sees half a body. Errors name the operation, the bucket
 * and the key, never the credentials: the SDK's own error (whose fields may echo the access key) is not kept.
 */
export class S3BlobStore implements BlobStore {
  private readonly bucket: string;
  private readonly endpoint: string;
  private readonly prefix: string;
  /** Removes the credentials from a text; a closure, so that printing the store does not print them. */
  private readonly redact: (text: string) => string;

  private constructor(
    private readonly client: S3Client,
    options: S3BlobStoreOptions,
  ) {
    this.bucket = options.bucket;
    this.endpoint = options.endpoint;
    this.prefix = options.prefix;
    const secrets = [options.secretAccessKey, options.accessKeyId].filter((secret) => secret.length > 0);
    this.redact = (text) => secrets.reduce((result, secret) => result.split(secret).join('[redacted]'), text);
  }

  /** Connects to the store and creates the bucket when it is missing (idempotent, safe for many processes at once). */
  static async open(options: S3BlobStoreOptions): Promise<S3BlobStore> {
    const client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: true,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // S3-compatible stores do not all take the SDK's default checksum trailers; plain PUTs work everywhere.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    });
    const store = new S3BlobStore(client, options);
    try {
      await store.ensureBucket();
    } catch (error) {
      client.destroy();
      throw error;
    }
    return store;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Body: body,
          ContentLength: body.byteLength,
          ContentType: 'application/octet-stream',
        }),
      );
    } catch (error) {
      throw this.failure(`put ${objectKey}`, error);
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    const objectKey = this.objectKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      if (response.Body === undefined) return new Uint8Array();
      return await response.Body.transformToByteArray();
    } catch (error) {
      if (statusOf(error) === 404 && nameOf(error) !== 'NoSuchBucket') return null;
      throw this.failure(`get ${objectKey}`, error);
    }
  }

  async putFile(key: string, sourcePath: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      const { size } = await stat(sourcePath);
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Body: createReadStream(sourcePath),
          ContentLength: size,
          ContentType: 'application/octet-stream',
        }),
      );
    } catch (error) {
      throw this.failure(`put ${objectKey}`, error);
    }
  }

  async getFile(key: string, targetPath: string): Promise<boolean> {
    const objectKey = this.objectKey(key);
    const partial = temporaryName(targetPath);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      const body = response.Body;
      await pipeline(body instanceof Readable ? body : Readable.from([]), createWriteStream(partial));
      await rename(partial, targetPath);
      return true;
    } catch (error) {
      await rm(partial, { force: true });
      if (statusOf(error) === 404 && nameOf(error) !== 'NoSuchBucket') return false;
      throw this.failure(`get ${objectKey}`, error);
    }
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      throw this.failure(`delete ${objectKey}`, error);
    }
  }

  /** Closes the client's connections; the store cannot be used after. */
  close(): void {
    this.client.destroy();
  }

  private async ensureBucket(): Promise<void> {
    const Bucket = this.bucket;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket }));
      return;
    } catch (error) {
      if (statusOf(error) !== 404) throw this.failure('check that the bucket exists', error);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket }));
    } catch (error) {
      // Another worker or server created it in the meantime.
      if (nameOf(error) === 'BucketAlreadyOwnedByYou' || nameOf(error) === 'BucketAlreadyExists') return;
      throw this.failure('create the bucket', error);
    }
  }

  private objectKey(key: string): string {
    if (!BLOB_KEY_PATTERN.test(key) || key.split('/').includes('..')) throw new Error(`not a blob key: ${key}`);
    return `${this.prefix}${key}`;
  }

  /** An error that says what failed and why, with any credential in the store's message removed. */
  private failure(operation: string, error: unknown): Error {
    const text = `S3 blob store ${this.endpoint}, bucket ${this.bucket}: could not ${operation}: ${reasonOf(error)}`;
    return new Error(this.redact(text));
  }
}

/** What went wrong, from the SDK's error: its name, the HTTP status and the store's message. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = statusOf(error);
  const status = code === undefined ? '' : ` (HTTP ${code})`;
  // A response without a body (HEAD) leaves the SDK with no name or message of the store's.
  const bare = ['', 'Unknown', 'UnknownError'];
  if (!bare.includes(error.message)) return `${error.name}${status}: ${error.message}`;
  if (code === 403) {
    return `access denied${status}: the store refused the credentials (KEEL_S3_ACCESS_KEY_ID, KEEL_S3_SECRET_ACCESS_KEY), or they may not use this bucket`;
  }
  return `${bare.includes(error.name) ? 'no detail from the store' : error.name}${status}`;
}

function statusOf(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

function nameOf(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
