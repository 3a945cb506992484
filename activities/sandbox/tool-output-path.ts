import { randomBytes } from 'node:crypto';

import { SANDBOX_TOOL_OUTPUT_DIR } from './sandbox-constants';

/** File names stay well under the 255-byte limit of a path component. */
const MAX_NAME_CHARACTERS = 128;

/**
 * The file in the container that keeps a tool call's whole output when it is over the cap:
 * `SANDBOX_TOOL_OUTPUT_DIR/<name>.txt`, where the name is `outputName` (the model's `tool_use` id) with every character
 * outside `[A-Za-z0-9_-]` replaced by `_`, so it can neither leave the folder nor need quoting; without a usable
 * `outputName`, a random one.
 */
export function toolOutputPath(outputName: string | undefined): string {
  const safeName = (outputName ?? '').replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_NAME_CHARACTERS);
  return `${SANDBOX_TOOL_OUTPUT_DIR}/${safeName || `output-${randomBytes(8).toString('hex')}`}.txt`;
}
