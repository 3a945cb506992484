import type { FastifyInstance } from 'fastify';
import { withContract } from './openapi/route-contract';

/** One dependency `/health` checks: it resolves when the dependency answers and rejects with the reason otherwise. */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 3_000;

/** `GET /health`: 200 when every dependency answers, else 503 naming the ones that do not. */
export function registerHealthRoute(app: FastifyInstance, checks: HealthCheck[]): void {
  app.get(
    '/health',
    withContract({ summary: 'Whether the API and its dependencies answer.', public: true }),
    async (_request, reply) => {
      const results = await Promise.all(
        checks.map(async (healthCheck) => {
          const { name } = healthCheck;
          try {
            await Promise.race([
              healthCheck.check(),
              new Promise((_, reject) =>
                setTimeout(() => reject(new Error('no answer within 3 s')), CHECK_TIMEOUT_MS).unref(),
              ),
            ]);
            return { name, ok: true as const };
          } catch (error) {
            return { name, ok: false as const, reason: error instanceof Error ? error.message : String(error) };
          }
        }),
      );
      const failing = results.filter((result) => !result.ok);
      if (failing.length > 0) void reply.status(503);
      return { status: failing.length === 0 ? 'ok' : 'unavailable', checks: results };
    },
  );
}
