import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics, registerSandboxCount } from '../worker/metrics';

describe("the worker's metrics when a part of the page fails", () => {
  it('a sandbox count that fails keeps the last values, counts the error, and the page is still served', async () => {
    const registry = new Registry();
    let fail = false;
    registerSandboxCount(registry, () =>
      fail ? Promise.reject(new Error('docker is down')) : Promise.resolve({ running: 2, warm: 1, stopped: 0 }),
    );
    expect(await registry.metrics()).toContain('keel_sandboxes{state="running"} 2');
    fail = true;
    const page = await registry.metrics();
    expect(page).toContain('keel_sandboxes{state="running"} 2');
    expect(page).toContain('keel_sandboxes_count_errors_total 1');
  });

  it("the Temporal runtime's page is served as it is, and one that does not answer becomes a comment line", async () => {
    const runtimePage = '# TYPE temporal_num_pollers gauge\ntemporal_num_pollers{poller_type="activity_task"} 5\n';
    const server = createServer((_request, response) => response.end(runtimePage));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const answering = createWorkerMetrics({ temporalMetricsUrl: `http://127.0.0.1:${port}/metrics` });
      expect(await answering.temporalPage()).toBe(runtimePage);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const silent = createWorkerMetrics({ temporalMetricsUrl: `http://127.0.0.1:${port}/metrics` });
    expect(await silent.temporalPage()).toMatch(/^# the Temporal runtime's metrics did not answer: .+\n$/);
    expect(await createWorkerMetrics().temporalPage()).toBe('');
  });
});
