import type { Database as SqliteDatabase } from 'better-sqlite3';
import { toSkillMount } from '../../common/skills';
import type { SandboxSkillMount, SessionSkillRow, SessionSkillRows } from '../../common/skills';
import { openControlPlaneFile } from '../control-plane-file';

/** The worker's `SessionSkillRows` on the server's SQLite file (`session_skills`, migration 10), opened on first use. */
export class SqliteSkillRows implements SessionSkillRows {
  private database: SqliteDatabase | null = null;

  constructor(private readonly filename: string) {}

  mountsOf(sessionId: string): Promise<SandboxSkillMount[]> {
    return new Promise((resolve) =>
      resolve(
        this.open()
          .prepare<[string], SessionSkillRow>(
            `SELECT skill_id, skill_version_id, name, description, files FROM session_skills
             WHERE session_id = ? ORDER BY name`,
          )
          .all(sessionId)
          .map(toSkillMount),
      ),
    );
  }

  /** Closes the database; a later call opens it again. */
  close(): void {
    this.database?.close();
    this.database = null;
  }

  private open(): SqliteDatabase {
    this.database ??= openControlPlaneFile(this.filename, 'mount skills');
    return this.database;
  }
}
