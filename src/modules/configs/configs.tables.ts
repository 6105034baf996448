/** The configs module's tables as Kysely sees them (camelCase under CamelCasePlugin). */
export type ConfigsTables = {
  gitRepositories: {
    id: string;
    name: string;
    category: string;
    url: string;
    branch: string;
    path: string;
    credentialId: string | null;
    verifyTls: number | boolean;
    caCert: string | null;
    syncIntervalSeconds: number | null;
    description: string | null;
    active: number | boolean;
    lastSyncAt: string | null;
    lastSyncStatus: string;
    lastSyncError: string | null;
    lastSyncRunId: string | null;
    headCommit: string | null;
    webhookCredentialId: string | null;
    nextSyncAt: string | null;
    syncOwnerId: string | null;
    allowedExtensions: unknown;
    createdBy: string;
    createdAt: string;
    updatedAt: string;
  };
  configCommits: {
    repositoryId: string;
    sha: string;
    authorName: string;
    authorEmail: string;
    committedAt: string;
    message: string;
  };
  configVersions: {
    id: string;
    repositoryId: string;
    commitSha: string;
    path: string;
    deviceName: string;
    change: string;
    oldPath: string | null;
    authorName: string;
    committedAt: string;
    size: number;
    contentHash: string;
  };
  configComplianceRules: {
    id: string;
    name: string;
    description: string;
    kind: string;
    platformIds: unknown;
    roleIds: unknown;
    locationIds: unknown;
    lines: unknown;
    parent: string | null;
    ordered: number | boolean;
    pattern: string | null;
    severity: string;
    active: number | boolean;
    createdBy: string;
    createdAt: string;
    updatedAt: string;
  };
  configComplianceResults: {
    deviceId: string;
    ruleId: string;
    deviceName: string;
    status: string;
    missing: unknown;
    extra: unknown;
    error: string | null;
    versionId: string;
    repositoryId: string;
    commitSha: string;
    evaluatedAt: string;
  };
  configProfiles: {
    id: string;
    name: string;
    definition: unknown;
    createdBy: string;
    createdAt: string;
    updatedAt: string;
  };
};
