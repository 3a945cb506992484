import { currentWorkspaceId } from '../request-scope';
import type {
  AgentRepository,
  ArchivableRecordRepository,
  ControlPlaneStore,
  CredentialRepository,
  FileRepository,
  WorkRepository,
} from './control-plane-store';
import type { MemoryStoreRepository, StoredMemoryStore } from './memory-store-repository';
import type { SkillRepository, StoredSkill } from './skill-repository';

/**
 * The control-plane store as one workspace sees it, the workspace of the HTTP request being served
 * (`currentWorkspaceId`, which fails closed outside a request): records of other workspaces read as unknown (so the
 * API answers 404, as for an id that never existed), listings hold the workspace's records only, and what is inserted
 * belongs to the workspace. A vault's credentials, a self-hosted environment's work items and a memory store's memories
 * and versions, and a skill's versions, belong to the workspace of their vault, environment, store or skill. API keys, workspaces and repository tokens are not workspace records: they pass
 * through (a session's tokens are reached through the session, which the session routes scope).
 */
export function workspaceScopedStore(store: ControlPlaneStore): ControlPlaneStore {
  const ownedBy = (record: { workspaceId: string } | null): boolean =>
    record !== null && record.workspaceId === currentWorkspaceId();
  const agents = scopedAgents(store.agents, ownedBy);
  const environments = scopedArchivable(store.environments, ownedBy);
  const vaults = scopedArchivable(store.vaults, ownedBy);
  return {
    agents,
    environments,
    vaults,
    files: scopedFiles(store.files, ownedBy),
    credentials: scopedCredentials(store.credentials, async (vaultId) => (await vaults.get(vaultId)) !== null),
    work: scopedWork(store.work, async (environmentId) => (await environments.get(environmentId)) !== null),
    apiKeys: store.apiKeys,
    workspaces: store.workspaces,
    repositoryTokens: store.repositoryTokens,
    memoryStores: scopedMemoryStores(store.memoryStores, ownedBy),
    skills: scopedSkills(store.skills, ownedBy),
    dreams: scopedArchivable(store.dreams, ownedBy),
    deployments: scopedArchivable(store.deployments, ownedBy),
    deploymentRuns: scopedArchivable(store.deploymentRuns, ownedBy),
    close: () => store.close(),
  };
}

type Owned = (record: { workspaceId: string } | null) => boolean;

function scopedAgents(agents: AgentRepository, ownedBy: Owned): AgentRepository {
  const owns = async (id: string): Promise<boolean> => ownedBy(await agents.get(id));
  return {
    insert: (agent) => agents.insert({ ...agent, workspaceId: currentWorkspaceId() }),
    get: async (id, version) => {
      const agent = await agents.get(id, version);
      return agent !== null && ownedBy(agent) ? agent : null;
    },
    list: (request) => agents.list({ ...request, workspaceId: currentWorkspaceId() }),
    listVersions: async (id, request) => ((await owns(id)) ? agents.listVersions(id, request) : null),
    appendVersion: async (id, change, at) => ((await owns(id)) ? agents.appendVersion(id, change, at) : null),
    archive: async (id, at) => ((await owns(id)) ? agents.archive(id, at) : null),
  };
}

function scopedArchivable<Stored extends { workspaceId: string }>(
  records: ArchivableRecordRepository<Stored>,
  ownedBy: Owned,
): ArchivableRecordRepository<Stored> {
  const get = async (id: string): Promise<Stored | null> => {
    const record = await records.get(id);
    return ownedBy(record) ? record : null;
  };
  return {
    insert: (record) => records.insert({ ...record, workspaceId: currentWorkspaceId() }),
    get,
    list: (request) => records.list({ ...request, workspaceId: currentWorkspaceId() }),
    update: async (id, change) => ((await get(id)) === null ? null : records.update(id, change)),
    delete: async (id) => (await get(id)) !== null && records.delete(id),
  };
}

function scopedFiles(files: FileRepository, ownedBy: Owned): FileRepository {
  const get = async (id: string): Promise<Awaited<ReturnType<FileRepository['get']>>> => {
    const file = await files.get(id);
    return ownedBy(file) ? file : null;
  };
  return {
    insert: (file) => files.insert({ ...file, workspaceId: currentWorkspaceId() }),
    get,
    getMany: async (ids) => (await files.getMany(ids)).filter((file) => ownedBy(file)),
    list: (request) => files.list({ ...request, workspaceId: currentWorkspaceId() }),
    delete: async (id) => (await get(id)) !== null && files.delete(id),
  };
}

function scopedCredentials(
  credentials: CredentialRepository,
  ownsVault: (vaultId: string) => Promise<boolean>,
): CredentialRepository {
  return {
    insert: async (credential) =>
      (await ownsVault(credential.vaultId)) ? credentials.insert(credential) : 'vault_not_found',
    get: async (vaultId, id) => ((await ownsVault(vaultId)) ? credentials.get(vaultId, id) : null),
    list: async (vaultId, request) =>
      (await ownsVault(vaultId)) ? credentials.list(vaultId, request) : { items: [], nextCursor: null },
    update: async (vaultId, id, change) =>
      (await ownsVault(vaultId)) ? credentials.update(vaultId, id, change) : null,
    delete: async (vaultId, id) => (await ownsVault(vaultId)) && credentials.delete(vaultId, id),
  };
}

function scopedWork(
  work: WorkRepository,
  ownsEnvironment: (environmentId: string) => Promise<boolean>,
): WorkRepository {
  return {
    deliverNext: async (environmentId, workerId, at, redeliverBefore) =>
      (await ownsEnvironment(environmentId)) ? work.deliverNext(environmentId, workerId, at, redeliverBefore) : null,
    find: async (environmentId, id) => ((await ownsEnvironment(environmentId)) ? work.find(environmentId, id) : null),
    change: async (environmentId, id, change) =>
      (await ownsEnvironment(environmentId)) ? work.change(environmentId, id, change) : null,
    list: async (environmentId, page) =>
      (await ownsEnvironment(environmentId)) ? work.list(environmentId, page) : { items: [], nextCursor: null },
    stats: async (environmentId) =>
      (await ownsEnvironment(environmentId))
        ? work.stats(environmentId)
        : { depth: 0, pending: 0, oldestQueuedAt: null },
  };
}

function scopedMemoryStores(stores: MemoryStoreRepository, ownedBy: Owned): MemoryStoreRepository {
  const getStore = async (id: string): Promise<StoredMemoryStore | null> => {
    const store = await stores.getStore(id);
    return ownedBy(store) ? store : null;
  };
  const owns = async (id: string): Promise<boolean> => (await getStore(id)) !== null;
  return {
    insertStore: (store) => stores.insertStore({ ...store, workspaceId: currentWorkspaceId() }),
    getStore,
    listStores: (request) => stores.listStores({ ...request, workspaceId: currentWorkspaceId() }),
    updateStore: async (id, change) => ((await owns(id)) ? stores.updateStore(id, change) : null),
    deleteStore: async (id) => (await owns(id)) && stores.deleteStore(id),
    getMemory: async (storeId, memoryId) => ((await owns(storeId)) ? stores.getMemory(storeId, memoryId) : null),
    listMemories: async (storeId, pathPrefix) =>
      (await owns(storeId)) ? stores.listMemories(storeId, pathPrefix) : [],
    writeMemory: async (storeId, write, context) =>
      (await owns(storeId)) ? stores.writeMemory(storeId, write, context) : { kind: 'store_not_found' },
    getVersion: async (storeId, versionId) => ((await owns(storeId)) ? stores.getVersion(storeId, versionId) : null),
    listVersions: async (storeId, request) =>
      (await owns(storeId)) ? stores.listVersions(storeId, request) : { items: [], nextCursor: null },
    redactVersion: async (storeId, versionId, at, actor) =>
      (await owns(storeId)) ? stores.redactVersion(storeId, versionId, at, actor) : { kind: 'store_not_found' },
    attachToSession: (sessionId, mounts, at) => stores.attachToSession(sessionId, mounts, at),
    sessionsOf: async (storeId, limit) => ((await owns(storeId)) ? stores.sessionsOf(storeId, limit) : []),
  };
}

function scopedSkills(skills: SkillRepository, ownedBy: Owned): SkillRepository {
  const getSkill = async (id: string): Promise<StoredSkill | null> => {
    const skill = await skills.getSkill(id);
    return ownedBy(skill) ? skill : null;
  };
  const owns = async (id: string): Promise<boolean> => (await getSkill(id)) !== null;
  return {
    insertSkill: (skill, version) => skills.insertSkill({ ...skill, workspaceId: currentWorkspaceId() }, version),
    getSkill,
    listSkills: (request) => skills.listSkills({ ...request, workspaceId: currentWorkspaceId() }),
    deleteSkill: async (id) => (await owns(id)) && skills.deleteSkill(id),
    insertVersion: async (version) => ((await owns(version.skillId)) ? skills.insertVersion(version) : null),
    getVersion: async (skillId, versionId) => ((await owns(skillId)) ? skills.getVersion(skillId, versionId) : null),
    listVersions: async (skillId, request) =>
      (await owns(skillId)) ? skills.listVersions(skillId, request) : { items: [], nextCursor: null },
    deleteVersion: async (skillId, versionId, at) =>
      (await owns(skillId)) ? skills.deleteVersion(skillId, versionId, at) : 'not_found',
    attachToSession: (sessionId, mounts, at) => skills.attachToSession(sessionId, mounts, at),
    sessionSkills: (sessionId) => skills.sessionSkills(sessionId),
  };
}
