import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { mountsFiles } from '../activities/sandbox/provision-sandbox';
import { fileContentPath } from '../common/file-content-path';
import type { SessionFileResourceRecord, SessionRepositoryResourceRecord } from '../common/session';
import {
  applyResourceChange,
  fileMounts,
  initialRepositoryClones,
  noRepositoryClones,
  repositoryClonesAfterAttempt,
  repositoryClonesAfterChange,
  resourceChangeProblem,
} from '../workflows/session-resources';

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

describe('repository resources and their clones', () => {
  const file = resource('sesrsc_f', '/mnt/a');
  const repository = (id: string, mountPath: string): SessionRepositoryResourceRecord => ({
    id,
    type: 'github_repository',
    url: 'https://github.com/acme/app',
    checkout: null,
    mount_path: mountPath,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  });
  const app = repository('sesrsc_r1', '/workspace/app');
  const lib = repository('sesrsc_r2', '/workspace/lib');

  it('mounts only files, rotates only repositories, and bumps updated_at on a rotation', () => {
    expect(fileMounts([file, app])).toEqual([{ fileId: file.file_id, mountPath: '/mnt/a' }]);
    const rotate = { op: 'rotate' as const, resourceId: app.id, updatedAt: '2026-02-02T00:00:00Z' };
    expect(resourceChangeProblem([file, app], rotate)).toBeNull();
    expect(applyResourceChange([file, app], rotate)).toEqual([file, { ...app, updated_at: '2026-02-02T00:00:00Z' }]);
    expect(resourceChangeProblem([file], { ...rotate, resourceId: file.id })).toContain('is a file resource');
    expect(resourceChangeProblem([file], rotate)).toContain(`no resource ${app.id}`);
    expect(resourceChangeProblem([app], { op: 'add', resource: repository('sesrsc_r3', '/workspace/app') })).toContain(
      '/workspace/app is already used by sesrsc_r1',
    );
  });

  it('waits for every repository of a new session, and for added ones; forgets deleted ones', () => {
    const initial = initialRepositoryClones([file, app]);
    expect(initial).toEqual({ awaiting: [app.id], failed: [] });
    const added = repositoryClonesAfterChange(initial, [file, app], { op: 'add', resource: lib });
    expect(added).toEqual({ awaiting: [app.id, lib.id], failed: [] });
    // A retried add, and an added file, change nothing.
    expect(repositoryClonesAfterChange(added, [file, app, lib], { op: 'add', resource: lib })).toBe(added);
    expect(repositoryClonesAfterChange(added, [app, lib], { op: 'add', resource: file })).toBe(added);
    expect(repositoryClonesAfterChange(added, [file, app, lib], { op: 'delete', resourceId: app.id })).toEqual({
      awaiting: [lib.id],
      failed: [],
    });
    expect(noRepositoryClones(initialRepositoryClones([file]))).toBe(true);
  });

  it('after a failed clone, waits for a rotated token; a rotation while a clone ran keeps it waiting', () => {
    const waiting = { awaiting: [app.id, lib.id], failed: [] };
    const failed = repositoryClonesAfterAttempt(waiting, app.id, 'failed');
    expect(failed).toEqual({ awaiting: [lib.id], failed: [app.id] });
    expect(noRepositoryClones(failed)).toBe(false);
    const rotate = { op: 'rotate' as const, resourceId: app.id, updatedAt: '2026-02-02T00:00:00Z' };
    expect(repositoryClonesAfterChange(failed, [app, lib], rotate)).toEqual({ awaiting: [lib.id, app.id], failed: [] });
    // Rotating a repository that waits, or was cloned, changes nothing.
    expect(repositoryClonesAfterChange(waiting, [app, lib], rotate)).toBe(waiting);
    const cloned = repositoryClonesAfterAttempt(waiting, app.id, 'cloned');
    expect(cloned).toEqual({ awaiting: [lib.id], failed: [] });
    expect(repositoryClonesAfterChange(cloned, [app, lib], rotate)).toBe(cloned);
    expect(repositoryClonesAfterAttempt(waiting, app.id, 'rotated')).toBe(waiting);
    expect(repositoryClonesAfterAttempt(failed, app.id, 'gone')).toEqual({ awaiting: [lib.id], failed: [] });
  });
});
