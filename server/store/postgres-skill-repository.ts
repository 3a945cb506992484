import { toSkillMount } from '../../common/skills';
import type { SandboxSkillMount, SessionSkillRow } from '../../common/skills';
import type { PageRequest, StoredPage, WorkspaceListRequest } from './control-plane-store';
import type { PostgresDatabase, PostgresQueries } from './postgres-database';
import { toSequence } from './postgres-database';
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
import { parseCursor, toPage } from './store-pages';

const placeholders = (count: number): string => Array.from({ length: count }, (_, index) => `$${index + 1}`).join(', ');

/** Skills and their versions in PostgreSQL; a version write locks its skill's row first (`FOR UPDATE`). */
export class PostgresSkillRepository implements SkillRepository {
  constructor(private readonly database: PostgresDatabase) {}

  insertSkill(skill: StoredSkill, version: StoredSkillVersion): Promise<void> {
    return this.database.transaction(async (client) => {
      await client.query(`INSERT INTO skills (${SKILL_COLUMNS}) VALUES (${placeholders(7)})`, skillValues(skill));
      await client.query(
        `INSERT INTO skill_versions (${SKILL_VERSION_COLUMNS}) VALUES (${placeholders(6)})`,
        skillVersionValues(version),
      );
    });
  }

  getSkill(id: string): Promise<StoredSkill | null> {
    return readSkill(this.database, id, false);
  }

  async listSkills(request: WorkspaceListRequest): Promise<StoredPage<StoredSkill>> {
    const { rows } = await this.database.query<SkillRow>(
      `SELECT * FROM skills WHERE ($1::text IS NULL OR workspace_id = $1) AND ($2::bigint IS NULL OR sequence < $2)
       ORDER BY sequence DESC LIMIT $3`,
      [request.workspaceId ?? null, parseCursor(request.cursor), request.limit + 1],
    );
    return toPage(rows, request.limit, toStoredSkill, (row) => toSequence(row.sequence));
  }

  async deleteSkill(id: string): Promise<boolean> {
    const { rowCount } = await this.database.query('DELETE FROM skills WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  insertVersion(version: StoredSkillVersion): Promise<StoredSkill | null> {
    return this.database.transaction(async (client) => {
      if ((await readSkill(client, version.skillId, true)) === null) return null;
      await client.query(
        `INSERT INTO skill_versions (${SKILL_VERSION_COLUMNS}) VALUES (${placeholders(6)})`,
        skillVersionValues(version),
      );
      await client.query('UPDATE skills SET latest_version_id = $1, updated_at = $2 WHERE id = $3', [
        version.id,
        version.createdAt,
        version.skillId,
      ]);
      return readSkill(client, version.skillId, false);
    });
  }

  async getVersion(skillId: string, versionId: string): Promise<StoredSkillVersion | null> {
    const { rows } = await this.database.query<SkillVersionRow>(
      'SELECT * FROM skill_versions WHERE skill_id = $1 AND id = $2',
      [skillId, versionId],
    );
    const row = rows[0];
    return row === undefined ? null : toStoredSkillVersion(row);
  }

  async listVersions(skillId: string, request: PageRequest): Promise<StoredPage<StoredSkillVersion>> {
    const { rows } = await this.database.query<SkillVersionRow>(
      `SELECT * FROM skill_versions WHERE skill_id = $1 AND ($2::bigint IS NULL OR sequence < $2)
       ORDER BY sequence DESC LIMIT $3`,
      [skillId, parseCursor(request.cursor), request.limit + 1],
    );
    return toPage(rows, request.limit, toStoredSkillVersion, (row) => toSequence(row.sequence));
  }

  deleteVersion(skillId: string, versionId: string, at: string): Promise<SkillVersionDeleteOutcome> {
    return this.database.transaction(async (client): Promise<SkillVersionDeleteOutcome> => {
      if ((await readSkill(client, skillId, true)) === null) return 'not_found';
      const { rows } = await client.query<{ id: string }>(
        'SELECT id FROM skill_versions WHERE skill_id = $1 ORDER BY sequence DESC',
        [skillId],
      );
      const ids = rows.map((row) => row.id);
      if (!ids.includes(versionId)) return 'not_found';
      if (ids.length === 1) return 'only_version';
      await client.query('DELETE FROM skill_versions WHERE id = $1', [versionId]);
      const latest = ids.find((id) => id !== versionId) ?? versionId;
      await client.query('UPDATE skills SET latest_version_id = $1, updated_at = $2 WHERE id = $3', [
        latest,
        at,
        skillId,
      ]);
      return 'deleted';
    });
  }

  attachToSession(sessionId: string, mounts: readonly SandboxSkillMount[], at: string): Promise<void> {
    return this.database.transaction(async (client) => {
      for (const mount of mounts) {
        await client.query(
          `INSERT INTO session_skills (${SESSION_SKILL_COLUMNS}) VALUES (${placeholders(7)})`,
          sessionSkillValues(sessionId, mount, at),
        );
      }
    });
  }

  async sessionSkills(sessionId: string): Promise<SandboxSkillMount[]> {
    const { rows } = await this.database.query<SessionSkillRow>(
      'SELECT * FROM session_skills WHERE session_id = $1 ORDER BY name',
      [sessionId],
    );
    return rows.map(toSkillMount);
  }
}

async function readSkill(queries: PostgresQueries, id: string, lock: boolean): Promise<StoredSkill | null> {
  const { rows } = await queries.query<SkillRow>(`SELECT * FROM skills WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [
    id,
  ]);
  const row = rows[0];
  return row === undefined ? null : toStoredSkill(row);
}
