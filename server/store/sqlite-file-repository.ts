import type { Database, Statement } from 'better-sqlite3';
import type { FileListRequest, FileRepository, StoredFile, StoredPage } from './control-plane-store';
import { settle } from './sqlite-database';
import { parseCursor, toPage } from './store-pages';

interface FileRow {
  sequence: number;
  id: string;
  workspace_id: string;
  filename: string;
  mime_type: string;
  size_bytes: number;
  created_at: string;
  downloadable: number;
  expires_at: string | null;
  scope_type: 'session' | null;
  scope_id: string | null;
}

/** Files' metadata in SQLite: one row per file (`file_metadata`); the content lives on disk. */
export class SqliteFileRepository implements FileRepository {
  private readonly selectOne: Statement<[string], FileRow>;
  private readonly selectMany: Statement<[string], FileRow>;
  private readonly selectPage: Statement<[Record<string, unknown>], FileRow>;
  private readonly insertOne: Statement<[Record<string, unknown>]>;
  private readonly deleteOne: Statement<[string]>;

  constructor(database: Database) {
    this.selectOne = database.prepare('SELECT * FROM file_metadata WHERE id = ?');
    this.selectMany = database.prepare(
      'SELECT * FROM file_metadata WHERE id IN (SELECT value FROM json_each(?)) ORDER BY sequence DESC',
    );
    this.selectPage = database.prepare(`
      SELECT * FROM file_metadata
      WHERE (@scopeId IS NULL OR scope_id = @scopeId) AND (@workspaceId IS NULL OR workspace_id = @workspaceId)
        AND (@before IS NULL OR sequence < @before)
      ORDER BY sequence DESC LIMIT @limit`);
    this.insertOne = database.prepare(
      `INSERT INTO file_metadata
         (id, workspace_id, filename, mime_type, size_bytes, created_at, downloadable, expires_at, scope_type, scope_id)
       VALUES (@id, @workspaceId, @filename, @mimeType, @sizeBytes, @createdAt, @downloadable, @expiresAt, @scopeType, @scopeId)`,
    );
    this.deleteOne = database.prepare('DELETE FROM file_metadata WHERE id = ?');
  }

  insert(file: StoredFile): Promise<void> {
    return settle(
      () =>
        void this.insertOne.run({
          id: file.id,
          workspaceId: file.workspaceId,
          filename: file.filename,
          mimeType: file.mimeType,
          sizeBytes: file.sizeBytes,
          createdAt: file.createdAt,
          downloadable: file.downloadable ? 1 : 0,
          expiresAt: file.expiresAt,
          scopeType: file.scope?.type ?? null,
          scopeId: file.scope?.id ?? null,
        }),
    );
  }

  get(id: string): Promise<StoredFile | null> {
    return settle(() => {
      const row = this.selectOne.get(id);
      return row === undefined ? null : toStoredFile(row);
    });
  }

  getMany(ids: readonly string[]): Promise<StoredFile[]> {
    return settle(() => this.selectMany.all(JSON.stringify(ids)).map(toStoredFile));
  }

  list(request: FileListRequest): Promise<StoredPage<StoredFile>> {
    return settle(() => {
      const rows = this.selectPage.all({
        scopeId: request.scopeId,
        workspaceId: request.workspaceId ?? null,
        before: parseCursor(request.cursor),
        limit: request.limit + 1,
      });
      return toPage(rows, request.limit, toStoredFile, (row) => row.sequence);
    });
  }

  delete(id: string): Promise<boolean> {
    return settle(() => this.deleteOne.run(id).changes > 0);
  }
}

function toStoredFile(row: FileRow): StoredFile {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    filename: row.filename,
    mimeType: row.mime_type,
    sizeBytes: row.size_bytes,
    createdAt: row.created_at,
    downloadable: row.downloadable === 1,
    expiresAt: row.expires_at,
    scope: row.scope_type !== null && row.scope_id !== null ? { type: row.scope_type, id: row.scope_id } : null,
  };
}
