import type pg from 'pg';
import { toSkillMount } from '../../common/skills';
import type { SandboxSkillMount, SessionSkillRow, SessionSkillRows } from '../../common/skills';

/** The worker's `SessionSkillRows` on the server's PostgreSQL control plane. The pool belongs to the caller. */
export class PostgresSkillRows implements SessionSkillRows {
  constructor(private readonly pool: pg.Pool) {}

  async mountsOf(sessionId: string): Promise<SandboxSkillMount[]> {
    const { rows } = await this.pool.query<SessionSkillRow>(
      `SELECT skill_id, skill_version_id, name, description, files FROM session_skills
       WHERE session_id = $1 ORDER BY name`,
      [sessionId],
    );
    return rows.map(toSkillMount);
  }
}
