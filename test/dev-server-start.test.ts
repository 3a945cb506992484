import { describe, expect, it } from 'vitest';
import { lostOwnRandomPort } from '../cli/temporal-dev-server';

const options = { port: 7233, uiPort: 8233, dbFilename: '/tmp/x.sqlite' };

describe('starting the Temporal dev server again', () => {
  it('only when a port the CLI picked itself was taken, never for the ports the caller chose', () => {
    const httpPort = new Error(
      'temporal server start-dev on 127.0.0.1:7233 exited during start-up (exit code 1):\n' +
        'Error: failed listening for HTTP API on 127.0.0.1:34647: listen tcp 127.0.0.1:34647: bind: address already in use',
    );
    expect(lostOwnRandomPort(httpPort, options)).toBe(true);
    const grpcPort = new Error('listen tcp 127.0.0.1:7233: bind: address already in use');
    expect(lostOwnRandomPort(grpcPort, options)).toBe(false);
    expect(lostOwnRandomPort(new Error('did not answer within 60 s'), options)).toBe(false);
  });
});
