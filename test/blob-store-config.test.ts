import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../common/config';

const S3 = {
  KEEL_BLOB_STORE: 's3',
  KEEL_S3_ENDPOINT: 'http://127.0.0.1:8333',
  KEEL_S3_BUCKET: 'keel-blobs',
  KEEL_S3_ACCESS_KEY_ID: 'keel-access',
  KEEL_S3_SECRET_ACCESS_KEY: 'keel-secret-value',
};

/** The message of the `ConfigError` that parsing `environment` throws. */
function problemOf(environment: Record<string, string>): string {
  try {
    parseConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('blob store configuration (KEEL_BLOB_STORE, KEEL_S3_*)', () => {
  it('defaults to the folder in the data folder', () => {
    expect(parseConfig({}).blobStore).toEqual({ kind: 'folder' });
  });

  it('s3 with every variable: region defaults to us-east-1, no prefix, keys as given', () => {
    expect(parseConfig(S3).blobStore).toEqual({
      kind: 's3',
      endpoint: 'http://127.0.0.1:8333',
      region: 'us-east-1',
      bucket: 'keel-blobs',
      prefix: '',
      accessKeyId: 'keel-access',
      secretAccessKey: 'keel-secret-value',
    });
  });

  it('a prefix is stored with one trailing slash and no leading one; a region is taken as given', () => {
    const config = parseConfig({ ...S3, KEEL_S3_PREFIX: '/team-a/keel', KEEL_S3_REGION: 'eu-west-3' });
    expect(config.blobStore).toMatchObject({ prefix: 'team-a/keel/', region: 'eu-west-3' });
    expect(parseConfig({ ...S3, KEEL_S3_PREFIX: 'keel/' }).blobStore).toMatchObject({ prefix: 'keel/' });
  });

  it('s3 without its variables names each missing one; folder ignores them', () => {
    const message = problemOf({ KEEL_BLOB_STORE: 's3', KEEL_S3_BUCKET: 'keel-blobs', KEEL_S3_ACCESS_KEY_ID: ' ' });
    expect(message).toContain('KEEL_S3_ENDPOINT: required when KEEL_BLOB_STORE=s3');
    expect(message).toContain('KEEL_S3_ACCESS_KEY_ID: required when KEEL_BLOB_STORE=s3');
    expect(message).toContain('KEEL_S3_SECRET_ACCESS_KEY: required when KEEL_BLOB_STORE=s3');
    expect(message).not.toContain('KEEL_S3_BUCKET');
    expect(parseConfig({ KEEL_BLOB_STORE: 'folder', KEEL_S3_BUCKET: 'keel-blobs' }).blobStore).toEqual({
      kind: 'folder',
    });
  });

  it('an unknown store, a bad bucket name, a bad prefix and a bad endpoint are each named with what is expected', () => {
    expect(problemOf({ KEEL_BLOB_STORE: 'gcs' })).toMatch(
      /KEEL_BLOB_STORE: .*"folder"\|"s3"|KEEL_BLOB_STORE: .*folder.*s3/,
    );
    expect(problemOf({ ...S3, KEEL_S3_BUCKET: 'Keel_Blobs' })).toContain('KEEL_S3_BUCKET: expected a bucket name');
    expect(problemOf({ ...S3, KEEL_S3_PREFIX: 'keel/../other' })).toContain('KEEL_S3_PREFIX: expected path parts');
    expect(problemOf({ ...S3, KEEL_S3_ENDPOINT: 'not a url' })).toContain('KEEL_S3_ENDPOINT: expected a URL');
  });

  it('an endpoint with credentials in it is refused, and the message does not repeat them', () => {
    const message = problemOf({ ...S3, KEEL_S3_ENDPOINT: 'http://someone:hunter2-secret@127.0.0.1:8333' });
    expect(message).toContain('KEEL_S3_ENDPOINT: expected a URL without user or password in it');
    expect(message).not.toContain('hunter2-secret');
  });
});
