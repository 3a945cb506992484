import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { extract, pack } from 'tar-stream';
import { MAX_MEMORY_CONTENT_BYTES, MEMORY_MOUNT_ROOT, memoryPathProblem } from '../../common/memory';
import type { MemoryFile, MemorySyncResult, SandboxMemoryMount, SessionMemoryRows } from '../../common/memory';
import { SANDBOX_USER } from './sandbox-constants';

/**
 * What each mount held when it was last written or synced, by container and store: a sync writes only the paths the
 * agent changed since (so a change made through the API meanwhile is not undone). Lost with the worker, a baseline
 * falls back to the store's memories.
 */
const baselines = new Map<string, Map<string, string>>();
const MAX_BASELINES = 1_000;

function baselineKey(containerId: string, storeId: string): string {
  return `${containerId}\u0000${storeId}`;
}

function rememberBaseline(containerId: string, storeId: string, files: readonly MemoryFile[]): void {
  const key = baselineKey(containerId, storeId);
  baselines.delete(key);
  baselines.set(key, new Map(files.map((file) => [file.path, file.content])));
  for (const oldest of baselines.keys()) {
    if (baselines.size <= MAX_BASELINES) break;
    baselines.delete(oldest);
  }
}

/** The mounts of sessions seen lately: fixed when a session is created, so they are read once per worker. */
const sessionMounts = new Map<string, readonly SandboxMemoryMount[]>();
const MAX_CACHED_SESSIONS = 10_000;

/** The memory stores the session mounts (none for most sessions), read from the store on the first call only. */
export async function memoryMountsOf(
  rows: SessionMemoryRows,
  sessionId: string,
): Promise<readonly SandboxMemoryMount[]> {
  const cached = sessionMounts.get(sessionId);
  if (cached !== undefined) return cached;
  const mounts = await rows.mountsOf(sessionId);
  sessionMounts.set(sessionId, mounts);
  for (const oldest of sessionMounts.keys()) {
    if (sessionMounts.size <= MAX_CACHED_SESSIONS) break;
    sessionMounts.delete(oldest);
  }
  return mounts;
}

/** The directory of a mount inside the memory volume (`user-preferences` for `/mnt/memory/user-preferences`). */
function mountDirectory(mount: SandboxMemoryMount): string {
  return mount.mountPath.slice(MEMORY_MOUNT_ROOT.length + 1);
}

/**
 * Copies each mounted store's memories into a new container's memory volume (mounted at `/mnt/memory`), with Docker's
 * archive API: a `read_write` store's directories and files belong to the sandbox user, a `read_only` store's to root
 * with no write permission, so the agent (non-root, no capabilities) can read them but change nothing.
 */
export async function writeMemoryMounts(
  docker: Docker,
  containerId: string,
  mounts: readonly SandboxMemoryMount[],
  rows: SessionMemoryRows,
): Promise<void> {
  const [owner = '1000', group = '1000'] = SANDBOX_USER.split(':');
  const archive = pack();
  const contents: Array<{ mount: SandboxMemoryMount; files: MemoryFile[] }> = [];
  for (const mount of mounts) {
    const files = (await rows.memoriesOf(mount.memoryStoreId)).map(({ path, content }) => ({ path, content }));
    contents.push({ mount, files });
  }
  const written = new Promise<void>((resolve, reject) => {
    const container = docker.getContainer(containerId);
    container.putArchive(archive as unknown as Readable, { path: MEMORY_MOUNT_ROOT }).then(() => resolve(), reject);
  });
  for (const { mount, files } of contents) {
    const writable = mount.access === 'read_write';
    const ownership = writable ? { uid: Number(owner), gid: Number(group) } : { uid: 0, gid: 0 };
    const directoryMode = writable ? 0o755 : 0o555;
    const fileMode = writable ? 0o644 : 0o444;
    const root = mountDirectory(mount);
    const directories = new Set<string>([root]);
    for (const file of files) {
      const segments = file.path.slice(1).split('/');
      for (let depth = 1; depth < segments.length; depth++)
        directories.add(`${root}/${segments.slice(0, depth).join('/')}`);
    }
    // Parents sort before their children, so each directory exists (with its owner) before what it holds.
    for (const directory of [...directories].sort()) {
      archive.entry({ name: directory, type: 'directory', mode: directoryMode, ...ownership });
    }
    for (const file of files) {
      archive.entry({ name: `${root}${file.path}`, type: 'file', mode: fileMode, ...ownership }, file.content);
    }
  }
  archive.finalize();
  await written;
  for (const { mount, files } of contents) rememberBaseline(containerId, mount.memoryStoreId, files);
}

/** What one mount's sync did, for the tool result's note. */
export interface MemoryMountSync {
  mount: SandboxMemoryMount;
  result: MemorySyncResult;
  /** Files under the mount that cannot be memories (not UTF-8 text, over 100 kB, or a path the API refuses). */
  skipped: string[];
}

/**
 * Reads each `read_write` mount back from the container (Docker's archive API) and writes what the agent changed
 * since the last sync to its store, as versions by the session: created, modified and deleted memories.
 */
export async function syncMemoryMounts(
  docker: Docker,
  containerId: string,
  sessionId: string,
  mounts: readonly SandboxMemoryMount[],
  rows: SessionMemoryRows,
): Promise<MemoryMountSync[]> {
  const syncs: MemoryMountSync[] = [];
  for (const mount of mounts) {
    if (mount.access !== 'read_write') continue;
    const { files, skipped } = await readMount(docker, containerId, mount);
    const baseline =
      baselines.get(baselineKey(containerId, mount.memoryStoreId)) ??
      new Map((await rows.memoriesOf(mount.memoryStoreId)).map((memory) => [memory.path, memory.content]));
    const current = new Map(files.map((file) => [file.path, file.content]));
    const touched = new Set<string>();
    for (const [path, content] of current) if (baseline.get(path) !== content) touched.add(path);
    for (const path of baseline.keys()) if (!current.has(path)) touched.add(path);
    for (const path of skipped) touched.delete(path);
    const result =
      touched.size === 0
        ? ({ kind: 'synced', created: 0, modified: 0, deleted: 0 } as const)
        : await rows.syncFromSandbox(mount.memoryStoreId, sessionId, files, touched);
    rememberBaseline(containerId, mount.memoryStoreId, files);
    syncs.push({ mount, result, skipped });
  }
  return syncs;
}

/** The regular files under a mount, as memory paths and UTF-8 texts, and the paths of those that cannot be memories. */
async function readMount(
  docker: Docker,
  containerId: string,
  mount: SandboxMemoryMount,
): Promise<{ files: MemoryFile[]; skipped: string[] }> {
  const stream = (await docker.getContainer(containerId).getArchive({ path: mount.mountPath })) as unknown as Readable;
  const files: MemoryFile[] = [];
  const skipped: string[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const reader = extract();
  await new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, body, next) => {
      // Entries are named after the mount's directory: `notes/a.md` is the memory `/a.md` of the mount `notes`.
      const path = `/${header.name.split('/').slice(1).join('/')}`.replace(/\/+$/, '');
      const chunks: Buffer[] = [];
      let size = 0;
      body.on('data', (data: unknown) => {
        const chunk = data as Buffer;
        size += chunk.length;
        if (size <= MAX_MEMORY_CONTENT_BYTES) chunks.push(chunk);
      });
      body.on('end', () => {
        if (header.type === 'file' && path !== '') {
          if (size > MAX_MEMORY_CONTENT_BYTES || memoryPathProblem(path) !== null) skipped.push(path);
          else {
            try {
              files.push({ path, content: decoder.decode(Buffer.concat(chunks)) });
            } catch {
              skipped.push(path);
            }
          }
        }
        next();
      });
      body.resume();
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
    stream.on('error', reject);
    stream.pipe(reader);
  });
  return { files, skipped };
}

/** The line the model sees after a tool call whose memory writes could not all be kept, or `undefined`. */
export function memorySyncNote(syncs: readonly MemoryMountSync[]): string | undefined {
  const notes: string[] = [];
  for (const { mount, result, skipped } of syncs) {
    if (result.kind === 'store_archived') {
      notes.push(`keel: the memory store at ${mount.mountPath} is archived; changes to it are not kept.`);
    } else if (result.kind === 'store_gone') {
      notes.push(`keel: the memory store at ${mount.mountPath} was deleted; changes to it are not kept.`);
    }
    if (skipped.length > 0) {
      notes.push(
        `keel: not kept in the memory store at ${mount.mountPath} (memories are UTF-8 text files of at most ` +
          `${MAX_MEMORY_CONTENT_BYTES} bytes): ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}.`,
      );
    }
  }
  return notes.length === 0 ? undefined : notes.join('\n');
}
