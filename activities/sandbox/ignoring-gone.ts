import { dockerStatusCode } from './docker-status-code';

/** Runs a Docker removal; `false` when the thing was gone already (404) or is being removed or still used (409). */
export async function ignoringGone(remove: () => Promise<unknown>): Promise<boolean> {
  try {
    await remove();
    return true;
  } catch (error) {
    const status = dockerStatusCode(error);
    if (status === 404 || status === 409) return false;
    throw error;
  }
}
