import type { Database } from 'better-sqlite3';
import { toSkillMount } from '../../common/skills';
import type { SandboxSkillMount, SessionSkillRow } from '../../common/skills';
import type { PageRequest, StoredPage, WorkspaceListRequest } from './control-plane-store';
import type { SkillRepository, SkillVersionDeleteOutcome, StoredSkill, StoredSkillVersion } from './skill-repository';
import {
  SESSION_SKILL_COLUMNS,
  sessionSkillValues,
  SKILL_COLUMNS,
  SKILL_VERSION_COLUMNS,
  skillValues,
  skillVersionValues,
  toStoredSkill,
  toStoredSkillVersion,
} from './skill-rows';
import type { SkillRow, SkillVersionRow } from './skill-rows';
import { settle } from './sqlite-database';
import { parseCursor, toPage } from './store-pages';

/** Skills and their versions in SQLite; each write is one immediate (write-locked) transaction. */
export class SqliteSkillRepository implements SkillRepository {
  constructor(private readonly database: Database) {}

  insertSkill(skill: StoredSkill, version: StoredSkillVersion): Promise<void> {
    return settle(() =>
      this.database
        .transaction(() => {
          this.database
            .prepare(`INSERT INTO skills (${SKILL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`)
            .run(...skillValues(skill));
          this.database
            .prepare(`INSERT INTO skill_versions (${SKILL_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`)
            .run(...skillVersionValues(version));
        })
        .immediate(),
    );
  }

  getSkill(id: string): Promise<StoredSkill | null> {
    return settle(() => this.readSkill(id));
  }

  listSkills(request: WorkspaceListRequest): Promise<StoredPage<StoredSkill>> {
    return settle(() => {
      const rows = this.database
        .prepare<Record<string, unknown>, SkillRow>(
          `SELECT * FROM skills WHERE (@workspaceId IS NULL OR workspace_id = @workspaceId)
             AND (@cursor IS NULL OR sequence < @cursor)
           ORDER BY sequence DESC LIMIT @limit`,
        )
        .all({
          workspaceId: request.workspaceId ?? null,
          cursor: parseCursor(request.cursor),
          limit: request.limit + 1,
        });
      return toPage(rows, request.limit, toStoredSkill, (row) => Number(row.sequence));
    });
  }

  deleteSkill(id: string): Promise<boolean> {
    return settle(() => this.database.prepare('DELETE FROM skills WHERE id = ?').run(id).changes > 0);
  }

  insertVersion(version: StoredSkillVersion): Promise<StoredSkill | null> {
    return settle(() =>
      this.database
        .transaction((): StoredSkill | null => {
          if (this.readSkill(version.skillId) === null) return null;
          this.database
            .prepare(`INSERT INTO skill_versions (${SKILL_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`)
            .run(...skillVersionValues(version));
          this.database
            .prepare('UPDATE skills SET latest_version_id = ?, updated_at = ? WHERE id = ?')
            .run(version.id, version.createdAt, version.skillId);
          return this.readSkill(version.skillId);
        })
        .immediate(),
    );
  }

  getVersion(skillId: string, versionId: string): Promise<StoredSkillVersion | null> {
    return settle(() => {
      const row = this.database
        .prepare<[string, string], SkillVersionRow>('SELECT * FROM skill_versions WHERE skill_id = ? AND id = ?')
        .get(skillId, versionId);
      return row === undefined ? null : toStoredSkillVersion(row);
    });
  }

  listVersions(skillId: string, request: PageRequest): Promise<StoredPage<StoredSkillVersion>> {
    return settle(() => {
      const rows = this.database
        .prepare<Record<string, unknown>, SkillVersionRow>(
          `SELECT * FROM skill_versions WHERE skill_id = @skillId AND (@cursor IS NULL OR sequence < @cursor)
           ORDER BY sequence DESC LIMIT @limit`,
        )
        .all({ skillId, cursor: parseCursor(request.cursor), limit: request.limit + 1 });
      return toPage(rows, request.limit, toStoredSkillVersion, (row) => Number(row.sequence));
    });
  }

  deleteVersion(skillId: string, versionId: string, at: string): Promise<SkillVersionDeleteOutcome> {
    return settle(() =>
      this.database
        .transaction((): SkillVersionDeleteOutcome => {
          const ids = this.database
            .prepare<[string], { id: string }>(
              'SELECT id FROM skill_versions WHERE skill_id = ? ORDER BY sequence DESC',
            )
            .all(skillId)
            .map((row) => row.id);
          if (!ids.includes(versionId)) return 'not_found';
          if (ids.length === 1) return 'only_version';
          this.database.prepare('DELETE FROM skill_versions WHERE id = ?').run(versionId);
          const latest = ids.find((id) => id !== versionId) ?? versionId;
          this.database
            .prepare('UPDATE skills SET latest_version_id = ?, updated_at = ? WHERE id = ?')
            .run(latest, at, skillId);
          return 'deleted';
        })
        .immediate(),
    );
  }

  attachToSession(sessionId: string, mounts: readonly SandboxSkillMount[], at: string): Promise<void> {
    return settle(() =>
      this.database
        .transaction(() => {
          const insert = this.database.prepare(
            `INSERT INTO session_skills (${SESSION_SKILL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          );
          for (const mount of mounts) insert.run(...sessionSkillValues(sessionId, mount, at));
        })
        .immediate(),
    );
  }

  sessionSkills(sessionId: string): Promise<SandboxSkillMount[]> {
    return settle(() =>
      this.database
        .prepare<[string], SessionSkillRow>('SELECT * FROM session_skills WHERE session_id = ? ORDER BY name')
        .all(sessionId)
        .map(toSkillMount),
    );
  }

  private readSkill(id: string): StoredSkill | null {
    const row = this.database.prepare<[string], SkillRow>('SELECT * FROM skills WHERE id = ?').get(id);
    return row === undefined ? null : toStoredSkill(row);
  }
}
