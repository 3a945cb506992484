import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { mountsFiles } from '../activities/sandbox/provision-sandbox';
import { fileContentPath } from '../common/file-content-path';
import type { SessionFileResourceRecord } from '../common/session';
import { applyResourceChange, fileMounts, resourceChangeProblem } from '../workflows/session-resources';

const resource = (id: string, mountPath: string): SessionFileResourceRecord => ({
  id,
  type: 'file',
  file_id: `file_${id.replace(/[^0-9A-Za-z]/g, '').padEnd(8, '0')}`,
  mount_path: mountPath,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
});

describe('session resource changes', () => {
  const one = resource('sesrsc_1', '/mnt/a');

  it('adds, refuses a mount path in use, treats a retried add as no change, and deletes by id', () => {
    const two = resource('sesrsc_2', '/mnt/b');
    expect(resourceChangeProblem([one], { op: 'add', resource: two })).toBeNull();
    expect(applyResourceChange([one], { op: 'add', resource: two })).toEqual([one, two]);
    expect(resourceChangeProblem([one], { op: 'add', resource: resource('sesrsc_3', '/mnt/a') })).toContain(
      '/mnt/a is already used by sesrsc_1',
    );
    expect(resourceChangeProblem([one], { op: 'add', resource: one })).toBeNull();
    expect(applyResourceChange([one], { op: 'add', resource: one })).toEqual([one]);
    expect(resourceChangeProblem([one], { op: 'delete', resourceId: 'sesrsc_9' })).toContain('no resource sesrsc_9');
    expect(applyResourceChange([one, two], { op: 'delete', resourceId: 'sesrsc_1' })).toEqual([two]);
    expect(fileMounts([one])).toEqual([{ fileId: one.file_id, mountPath: '/mnt/a' }]);
  });

  it('tells whether a container mounts exactly the wanted files', () => {
    const info = (binds: Array<[string, string]>): Docker.ContainerInspectInfo =>
      ({
        Mounts: [
          { Type: 'volume', Source: '/var/lib/docker/volumes/x', Destination: '/workspace' },
          ...binds.map(([Source, Destination]) => ({ Type: 'bind', Source, Destination })),
        ],
      }) as unknown as Docker.ContainerInspectInfo;
    const files = fileMounts([one]);
    const source = fileContentPath('/data', one.file_id);
    expect(mountsFiles(info([[source, '/mnt/a']]), files, '/data')).toBe(true);
    expect(mountsFiles(info([]), files, '/data')).toBe(false);
    expect(mountsFiles(info([[source, '/mnt/a']]), [], '/data')).toBe(false);
    expect(mountsFiles(info([[source, '/mnt/other']]), files, '/data')).toBe(false);
    expect(mountsFiles(info([]), [], '/data')).toBe(true);
    // Binds that are not uploaded files' content are not the session's resources.
    expect(mountsFiles(info([['/dev/null', '/usr/bin/python3']]), [], '/data')).toBe(true);
  });
});
