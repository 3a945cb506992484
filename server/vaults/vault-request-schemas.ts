import { z } from 'zod';
import { requestBody } from '../request-body';

const displayName = z
  .string({ error: (issue) => (issue.input === undefined ? 'display_name is required' : 'expected a string') })
  .min(1, 'must be 1 to 255 characters')
  .max(255, 'must be 1 to 255 characters')
  .refine((name) => name.trim() !== '', 'must not be blank');

/** The body of `POST /v1/vaults` (`VaultCreateParams`); metadata limits are checked by the service. */
export const createVaultBody = requestBody({
  display_name: displayName,
  metadata: z.record(z.string(), z.string()).optional(),
});

/** The body of `POST /v1/vaults/{vault_id}` (`VaultUpdateParams`): omitted or `null` fields keep their value. */
export const updateVaultBody = requestBody({
  display_name: displayName.nullable().optional(),
  metadata: z.record(z.string(), z.string().nullable()).nullable().optional(),
});

/** A parsed create body. */
export type CreateVaultBody = z.infer<typeof createVaultBody>;

/** A parsed update body. */
export type UpdateVaultBody = z.infer<typeof updateVaultBody>;
