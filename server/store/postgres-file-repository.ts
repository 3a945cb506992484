import type { FileListRequest, FileRepository, StoredFile, StoredPage } from './control-plane-store';
import type { PostgresDatabase } from './postgres-database';
import { toSequence } from './postgres-database';
import { parseCursor, toPage } from './store-pages';

interface FileRow {
  sequence: string;
  id: string;
  workspace_id: string;
  filename: string;
  mime_type: string;
  size_bytes: string;
  created_at: string;
  downloadable: boolean;
  expires_at: string | null;
  scope_type: 'session' | null;
  scope_id: string | null;
}

/** Files' metadata in PostgreSQL: one row per file (`file_metadata`); the content lives in the blob store. */
export class PostgresFileRepository implements FileRepository {
  constructor(private readonly database: PostgresDatabase) {}

  async insert(file: StoredFile): Promise<void> {
    await this.database.query(
      `INSERT INTO file_metadata
         (id, filename, mime_type, size_bytes, created_at, downloadable, expires_at, scope_type, scope_id, workspace_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        file.id,
        file.filename,
        file.mimeType,
        file.sizeBytes,
        file.createdAt,
        file.downloadable,
        file.expiresAt,
        file.scope?.type ?? null,
        file.scope?.id ?? null,
        file.workspaceId,
      ],
    );
  }

  async get(id: string): Promise<StoredFile | null> {
    const { rows } = await this.database.query<FileRow>('SELECT * FROM file_metadata WHERE id = $1', [id]);
    const row = rows[0];
    return row === undefined ? null : toStoredFile(row);
  }

  async getMany(ids: readonly string[]): Promise<StoredFile[]> {
    const { rows } = await this.database.query<FileRow>(
      'SELECT * FROM file_metadata WHERE id = ANY($1::text[]) ORDER BY sequence DESC',
      [ids],
    );
    return rows.map(toStoredFile);
  }

  async list(request: FileListRequest): Promise<StoredPage<StoredFile>> {
    const { rows } = await this.database.query<FileRow>(
      `SELECT * FROM file_metadata
       WHERE ($1::text IS NULL OR scope_id = $1) AND ($2::bigint IS NULL OR sequence < $2)
         AND ($4::text IS NULL OR workspace_id = $4)
       ORDER BY sequence DESC LIMIT $3`,
      [request.scopeId, parseCursor(request.cursor), request.limit + 1, request.workspaceId ?? null],
    );
    return toPage(rows, request.limit, toStoredFile, (row) => toSequence(row.sequence));
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.database.query('DELETE FROM file_metadata WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }
}

function toStoredFile(row: FileRow): StoredFile {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    filename: row.filename,
    mimeType: row.mime_type,
    sizeBytes: Number(row.size_bytes),
    createdAt: row.created_at,
    downloadable: row.downloadable,
    expiresAt: row.expires_at,
    scope: row.scope_type !== null && row.scope_id !== null ? { type: row.scope_type, id: row.scope_id } : null,
  };
}
