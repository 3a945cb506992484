import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, resolveTemporalCliPath, startTemporalDevServer } from '../cli/temporal-dev-server';
import type { TemporalDevServer } from '../cli/temporal-dev-server';
import { PROJECT_ROOT, readConfig } from '../common/config';
import { listSessionExecutions } from '../server/sessions/list-session-executions';
import type { SessionExecution } from '../server/sessions/session-view';
import { FolderBlobStore } from '../storage/folder-blob-store';
import { EXTERNAL_PAYLOAD_THRESHOLD_BYTES, keelDataConverter } from '../worker/payload-store';

const WORKFLOW_TYPE = 'listedWorkflow';

let folder: string;
let temporal: TemporalDevServer;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  const config = readConfig();
  folder = mkdtempSync(path.join(tmpdir(), 'keel-list-executions-'));
  temporal = await startTemporalDevServer({
    cliPath: resolveTemporalCliPath(PROJECT_ROOT, config.temporal.cliPath, config.temporal.searchPath),
    port: await findFreePort(),
    uiPort: await findFreePort(),
    dbFilename: path.join(folder, 'temporal.sqlite'),
  });
  connection = await Connection.connect({ address: temporal.address });
  // Keel's own data converter, so a memo over the external storage threshold goes to the blob store as a reference.
  const blobs = new FolderBlobStore(path.join(folder, 'blobs'));
  client = new Client({ connection, dataConverter: keelDataConverter({ blobs, dataDir: folder }) });
});

afterAll(async () => {
  await connection?.close();
  await temporal?.stop();
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
});

/** What `client.workflow.list` gives for `query`, in the listing's shape. */
async function listedBySdk(query: string): Promise<SessionExecution[]> {
  const rows: SessionExecution[] = [];
  for await (const execution of client.workflow.list({ query })) {
    rows.push({
      workflowId: execution.workflowId,
      startTime: execution.startTime,
      ...(execution.closeTime === undefined ? {} : { closeTime: execution.closeTime }),
      memo: execution.memo ?? {},
      status: { name: execution.status.name },
    });
  }
  return rows;
}

describe('listSessionExecutions on a real Temporal dev server', () => {
  it('gives what client.workflow.list gives, page by page, a memo kept in external storage included', async () => {
    // Started on a task queue no worker polls: each stays as started, with its memo, until it is terminated.
    const start = (workflowId: string, memo: Record<string, unknown>) =>
      client.workflow.start(WORKFLOW_TYPE, { taskQueue: 'listed-nowhere', workflowId, memo });
    await start('listed-small', { listing: { title: 'small' }, metadata: { team: 'keel' } });
    await start('listed-empty', {});
    const large = 'x'.repeat(EXTERNAL_PAYLOAD_THRESHOLD_BYTES + 1);
    await start('listed-large', { listing: { title: large } });
    const ended = await start('listed-ended', { listing: { title: 'ended' } });
    await ended.terminate('listed after its end');

    const query = `WorkflowType = '${WORKFLOW_TYPE}'`;
    // Visibility is eventually consistent: wait until it shows the four, the terminated one as closed.
    const deadline = Date.now() + 20_000;
    let expected = await listedBySdk(query);
    while (
      (expected.length < 4 || !expected.some((row) => row.status.name === 'TERMINATED')) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expected = await listedBySdk(query);
    }
    expect(expected).toHaveLength(4);

    // The large memo is listed as a reference to the blob store, which only the SDK's decode reads.
    const raw = await client.workflowService.listWorkflowExecutions({ namespace: 'default', query });
    const largeRow = raw.executions.find((execution) => execution.execution?.workflowId === 'listed-large');
    const encoding = Buffer.from(largeRow?.memo?.fields?.['listing']?.metadata?.['encoding'] ?? []).toString();
    expect(encoding).toBe('json/protobuf');

    // Two rows a page: the listing goes through every page.
    const listed: SessionExecution[] = [];
    for await (const execution of listSessionExecutions(client, query, 2)) listed.push(execution);
    const byId = (rows: SessionExecution[]) => [...rows].sort((a, b) => a.workflowId.localeCompare(b.workflowId));
    expect(byId(listed)).toEqual(byId(expected));
    expect(listed.find((row) => row.workflowId === 'listed-large')?.memo?.['listing']).toEqual({ title: large });
    expect(listed.find((row) => row.workflowId === 'listed-ended')).toMatchObject({
      status: { name: 'TERMINATED' },
      closeTime: expect.any(Date),
    });
    expect(listed.find((row) => row.workflowId === 'listed-small')).toMatchObject({
      status: { name: 'RUNNING' },
      memo: { listing: { title: 'small' }, metadata: { team: 'keel' } },
    });
    expect(listed.find((row) => row.workflowId === 'listed-small')).not.toHaveProperty('closeTime');
  });
});
