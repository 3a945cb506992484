import { describe, expect, it } from 'vitest';
import { OffThreadCommandError, execFileOffThread } from '../activities/sandbox/exec-file-off-thread';

const ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };

describe('execFileOffThread: host programs started from a thread of their own', () => {
  it('gives what the program printed, for several programs at once', async () => {
    const outputs = await Promise.all(
      [1, 2, 3].map((index) =>
        execFileOffThread({
          file: 'sh',
          args: ['-c', `echo out${index}; echo err${index} >&2`],
          env: ENV,
          timeoutMs: 10_000,
        }),
      ),
    );
    expect(outputs).toEqual([1, 2, 3].map((index) => ({ stdout: `out${index}\n`, stderr: `err${index}\n` })));
  });

  it('passes only the environment it is given', async () => {
    const { stdout } = await execFileOffThread({ file: 'env', args: [], env: ENV, timeoutMs: 10_000 });
    expect(stdout.trim().split('\n').sort()).toEqual(['LC_ALL=C', 'PATH=/usr/bin:/bin']);
  });

  it('rejects as execFile does: a failing program with its exit status and output, a missing one, a timeout', async () => {
    const failed = await execFileOffThread({
      file: 'sh',
      args: ['-c', 'echo partial; echo broken >&2; exit 3'],
      env: ENV,
      timeoutMs: 10_000,
    }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(OffThreadCommandError);
    expect(failed).toMatchObject({ code: 3, stdout: 'partial\n', stderr: 'broken\n' });

    const missing = await execFileOffThread({
      file: 'keel-no-such-program',
      args: [],
      env: ENV,
      timeoutMs: 10_000,
    }).catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: 'ENOENT' });

    const started = Date.now();
    const slow = await execFileOffThread({ file: 'sleep', args: ['10'], env: ENV, timeoutMs: 200 }).catch(
      (error: unknown) => error,
    );
    expect(slow).toBeInstanceOf(OffThreadCommandError);
    expect(slow).toMatchObject({ killed: true, signal: 'SIGTERM', code: null });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a program that cannot even be started fails alone: what runs beside it finishes', async () => {
    const beside = execFileOffThread({
      file: 'sh',
      args: ['-c', 'sleep 0.3; echo beside'],
      env: ENV,
      timeoutMs: 10_000,
    });
    // A NUL byte in an argument makes execFile throw rather than call back.
    const invalid = await execFileOffThread({ file: 'echo', args: ['a\0b'], env: ENV, timeoutMs: 10_000 }).catch(
      (error: unknown) => error,
    );
    expect(invalid).toBeInstanceOf(OffThreadCommandError);
    expect(invalid).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(beside).resolves.toEqual({ stdout: 'beside\n', stderr: '' });
    await expect(execFileOffThread({ file: 'echo', args: ['after'], env: ENV, timeoutMs: 10_000 })).resolves.toEqual({
      stdout: 'after\n',
      stderr: '',
    });
  });
});
