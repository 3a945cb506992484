import { existsSync } from 'node:fs';

import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';

import { packageBuildContainerName } from '../activities/sandbox/packages/build-package-image';
import {
  PACKAGE_IMAGE_REPOSITORY,
  PACKAGE_SET_LABEL,
  packageImageTag,
} from '../activities/sandbox/packages/package-set';
import { FAILURE_TYPES } from '../common/failures';
import type { SandboxEnvironment, SandboxPackages } from '../common/sandbox';
import { DEFAULT_SANDBOX_ENVIRONMENT } from '../common/sandbox';
import { useSandboxFixture } from './support/sandbox-fixture';
import { testNetworks } from './support/test-networks';

const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const docker = new Docker();
const { networks, remove: removeNetworks } = testNetworks(docker, 'kp');
const sandbox = useSandboxFixture('pkg', {
  networks,
  ...(existsSync(CA_BUNDLE) ? { caBundlePath: CA_BUNDLE } : {}),
});
const { newSessionId } = sandbox;
const tagsToRemove = new Set<string>();

afterAll(async () => {
  await removeNetworks();
  for (const tag of tagsToRemove) {
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
  }
});

function withPackages(packages: SandboxPackages): SandboxEnvironment {
  return { ...DEFAULT_SANDBOX_ENVIRONMENT, environmentId: 'env_test', packages };
}

/** The tag the package set gets on the current base image, removed now (a clean start) and after the file. */
async function freshTag(packages: SandboxPackages): Promise<string> {
  const base = await docker.getImage(sandbox.options.image).inspect();
  const tag = packageImageTag(base.Id, packages);
  tagsToRemove.add(tag);
  await docker
    .getImage(tag)
    .remove({ force: true })
    .catch(() => undefined);
  return tag;
}

async function packageImageIds(): Promise<string[]> {
  const images = await docker.listImages({ filters: { reference: [PACKAGE_IMAGE_REPOSITORY] } });
  return images.map((image) => image.Id).sort();
}

/** How many build containers of `tag` Docker created between `since` and now (seconds since the epoch). */
async function buildContainersCreatedSince(tag: string, since: number): Promise<number> {
  const until = Math.ceil(Date.now() / 1000) + 1;
  const stream = await docker.getEvents({
    since,
    until,
    filters: { type: ['container'], event: ['create'], container: [packageBuildContainerName(tag)] },
  });
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text.split('\n').filter((line) => line.trim().length > 0).length;
}

describe('sandbox packages', () => {
  it('apt and pip packages are installed at provision, built once for concurrent sessions and reused by the next', async () => {
    const packages: SandboxPackages = { apt: ['jq'], pip: ['six'], npm: [] };
    const env = withPackages(packages);
    const tag = await freshTag(packages);
    const since = Math.floor(Date.now() / 1000) - 1;

    const [first, concurrent] = [newSessionId(), newSessionId()];
    const firstStarted = performance.now();
    const provisioned = await Promise.all(
      [first, concurrent].map((sessionId) => sandbox.activities.provisionSandbox({ sessionId, environment: env })),
    );
    const firstMs = performance.now() - firstStarted;
    expect(await buildContainersCreatedSince(tag, since)).toBe(1);
    const image = await docker.getImage(tag).inspect();
    for (const { containerId } of provisioned) {
      expect((await docker.getContainer(containerId).inspect()).Image).toBe(image.Id);
    }
    // The derived image keeps the base image's user, command and directory, and no build settings.
    expect(image.Config.User).toBe('1000:1000');
    expect(image.Config.Cmd).toEqual(['sleep', 'infinity']);
    expect(image.Config.Entrypoint ?? []).toEqual([]);
    expect(image.Config.WorkingDir).toBe('/workspace');
    expect(image.Config.Labels?.[PACKAGE_SET_LABEL]).toBe(tag.split(':')[1]);

    const run = async (command: string): Promise<unknown> =>
      sandbox.activities.execute({ sessionId: first, name: 'bash', input: { command }, environment: env });
    expect(await run('jq --version')).toEqual({ isError: false, output: expect.stringMatching(/^jq-1\.\d/) });
    expect(await run("python3 -c 'import six; print(six.__name__)'")).toEqual({ isError: false, output: 'six' });
    expect(await run('ls /var/lib/apt/lists | grep -c Packages || true')).toEqual({ isError: false, output: '0' });

    const imagesBefore = await packageImageIds();
    const secondSince = Math.floor(Date.now() / 1000);
    const secondStarted = performance.now();
    const second = await sandbox.activities.provisionSandbox({ sessionId: newSessionId(), environment: env });
    const secondMs = performance.now() - secondStarted;
    expect(second.created).toBe(true);
    expect(await packageImageIds()).toEqual(imagesBefore);
    expect(await buildContainersCreatedSince(tag, secondSince)).toBe(0);
    expect((await docker.getContainer(second.containerId).inspect()).Image).toBe(image.Id);
    console.log(
      `sandbox packages (apt jq, pip six): first provision ${Math.round(firstMs)} ms (two sessions at once, one build), ` +
        `second session ${Math.round(secondMs)} ms (image reused)`,
    );
  }, 600_000);

  it('a package that does not install fails provisioning non-retryably (heartbeating meanwhile) and is a tool error naming pip with its output', async () => {
    const packages: SandboxPackages = { apt: [], pip: ['keel-no-such-package-0b1d'], npm: [] };
    const env = withPackages(packages);
    const tag = await freshTag(packages);
    const sessionId = newSessionId();

    const activity = new MockActivityEnvironment();
    let heartbeats = 0;
    activity.on('heartbeat', () => heartbeats++);
    const failure = await activity.run(sandbox.activities.provisionSandbox, { sessionId, environment: env }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe(FAILURE_TYPES.sandboxPackagesFailed);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect(heartbeats).toBeGreaterThan(5);

    const result = await sandbox.activities.execute({
      sessionId,
      name: 'bash',
      input: { command: 'echo never runs' },
      environment: env,
    });
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/^pip could not install the environment's packages \(keel-no-such-package-0b1d\)/);
    expect(result.output).toContain('Last lines of the pip output:');
    expect(result.output).toContain('No matching distribution found for keel-no-such-package-0b1d');
    expect(result.output).toContain('keel: pip exited with status 1');
    expect(await docker.listContainers({ all: true, filters: { name: [packageBuildContainerName(tag)] } })).toEqual([]);
    expect(await docker.listImages({ filters: { reference: [tag] } })).toEqual([]);
  }, 600_000);
});
