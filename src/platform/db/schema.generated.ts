/**
 * The database as Kysely sees it (camelCase under CamelCasePlugin), generated from the migrated
 * schema by `npm run db:types` (scripts/db-types.ts). Do not edit: a test fails on drift.
 */
import type { ColumnType } from "kysely";

export type Generated<T> = T extends ColumnType<infer S, infer I, infer U>
  ? ColumnType<S, I | undefined, U>
  : ColumnType<T, T | undefined, T>;

export interface AlertIngestTokens {
  createdAt: string;
  createdBy: string;
  id: string;
  lastUsedAt: string | null;
  name: string;
  source: string;
  tokenHash: string;
}

export interface AlertLabels {
  alertId: string;
  key: string;
  value: string;
}

export interface Alerts {
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  assigneeId: string | null;
  autoResolveAt: string | null;
  count: number;
  createdAt: string;
  dedupKey: string;
  description: string;
  firstSeenAt: string;
  id: string;
  labels: string;
  lastSeenAt: string;
  notes: string;
  openKey: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  severity: string;
  source: string;
  state: string;
  title: string;
  updatedAt: string;
}

export interface ApiKeys {
  createdAt: string;
  expiresAt: string | null;
  id: string;
  lastUsedAt: string | null;
  name: string;
  permissions: unknown | null;
  prefix: string;
  revokedAt: string | null;
  roleId: string | null;
  secretHash: string;
  userId: string;
}

export interface AuditLog {
  action: string;
  actorId: string | null;
  actorKind: string;
  actorName: string;
  changes: unknown | null;
  id: string;
  ip: string | null;
  outcome: string;
  requestId: string | null;
  resourceId: string | null;
  resourceType: string;
  time: string;
  userAgent: string | null;
}

export interface ConfigCommits {
  authorEmail: string;
  authorName: string;
  committedAt: string;
  message: string;
  repositoryId: string;
  sha: string;
}

export interface ConfigComplianceResults {
  commitSha: string;
  deviceId: string;
  deviceName: string;
  error: string | null;
  evaluatedAt: string;
  extra: unknown;
  missing: unknown;
  repositoryId: string;
  ruleId: string;
  status: string;
  versionId: string;
}

export interface ConfigComplianceRules {
  active: boolean | number;
  createdAt: string;
  createdBy: string;
  description: string;
  id: string;
  kind: string;
  lines: unknown;
  locationIds: unknown;
  name: string;
  ordered: boolean | number;
  parent: string | null;
  pattern: string | null;
  platformIds: unknown;
  roleIds: unknown;
  severity: string;
  updatedAt: string;
}

export interface ConfigProfiles {
  createdAt: string;
  createdBy: string;
  definition: unknown;
  id: string;
  name: string;
  updatedAt: string;
}

export interface ConfigTemplates {
  active: boolean | number;
  category: string | null;
  content: string;
  createdAt: string;
  description: string | null;
  id: string;
  name: string;
  source: string;
  sourceCommit: string | null;
  sourcePath: string | null;
  sourceRepositoryId: string | null;
  tags: unknown;
  type: string;
  updatedAt: string;
  variablesSchema: unknown | null;
  version: number;
}

export interface ConfigTemplateVersions {
  authorId: string | null;
  authorName: string | null;
  content: string;
  contentHash: string;
  createdAt: string;
  id: string;
  notes: string | null;
  templateId: string;
  version: number;
}

export interface ConfigVersions {
  authorName: string;
  change: string;
  commitSha: string;
  committedAt: string;
  contentHash: string;
  deviceName: string;
  id: string;
  oldPath: string | null;
  path: string;
  repositoryId: string;
  size: number;
}

export interface CredentialAccessLog {
  action: "resolve" | "reveal" | "test";
  actorId: string;
  actorKind: string;
  actorName: string;
  id: string;
  jobRunId: string | null;
  outcome: string;
  purpose: string;
  resourceId: string;
  resourceType: "credential" | "secret";
  time: string;
}

export interface CredentialProfileEntries {
  credentialId: string;
  position: number;
  profileId: string;
}

export interface CredentialProfileHits {
  credentialId: string;
  deviceKey: string;
  profileId: string;
  succeededAt: string;
}

export interface CredentialProfiles {
  createdAt: string;
  description: string;
  id: string;
  name: string;
  nameKey: string;
  teamId: string | null;
  updatedAt: string;
}

export interface Credentials {
  attributes: string;
  ciphertext: string;
  createdAt: string;
  createdBy: string;
  description: string;
  expiresAt: string | null;
  expiryNotifiedAt: string | null;
  id: string;
  keyId: string;
  lastUsedAt: string | null;
  lastUsedBy: string | null;
  name: string;
  nameKey: string;
  secretFields: unknown;
  tags: unknown;
  teamId: string | null;
  type: string;
  updatedAt: string;
  updatedBy: string;
  wrappedKey: string;
}

export interface CustomFieldDefinitions {
  createdAt: string;
  defaultValue: unknown | null;
  description: Generated<string>;
  id: string;
  label: Generated<string>;
  name: string;
  objectType: string;
  required: Generated<boolean | number>;
  type: string;
  updatedAt: string;
  validation: unknown;
}

export interface DeviceGroupMembers {
  deviceId: string;
  groupId: string;
}

export interface DeviceGroups {
  createdAt: string;
  credentialProfileId: string | null;
  description: Generated<string>;
  filter: unknown;
  id: string;
  kind: string;
  name: string;
  updatedAt: string;
}

export interface DeviceRoles {
  color: Generated<string>;
  createdAt: string;
  description: Generated<string>;
  id: string;
  name: string;
  updatedAt: string;
}

export interface Devices {
  assetTag: string | null;
  comments: Generated<string>;
  createdAt: string;
  credentialId: string | null;
  credentialProfileId: string | null;
  customFields: unknown;
  deviceTypeId: string | null;
  externalId: string | null;
  hostname: string | null;
  id: string;
  locationId: string | null;
  name: string;
  osVersion: string | null;
  platformId: string | null;
  primaryIp4: string | null;
  primaryIp6: string | null;
  roleId: string | null;
  serial: string | null;
  source: Generated<string>;
  statusId: string;
  updatedAt: string;
}

export interface DeviceTags {
  deviceId: string;
  tagId: string;
}

export interface DeviceTypes {
  createdAt: string;
  description: Generated<string>;
  id: string;
  manufacturerId: string | null;
  model: string;
  partNumber: Generated<string>;
  uHeight: Generated<number>;
  updatedAt: string;
}

export interface DiscoveryHosts {
  address: string;
  decision: string;
  deviceId: string | null;
  edits: string;
  scanId: string;
  updatedAt: string;
  updatedBy: string;
}

export interface DiscoveryScans {
  createdAt: string;
  createdBy: string;
  hostCount: number;
  id: string;
  name: string;
  params: string;
  rangeKey: string;
  runId: string;
  targets: string;
}

export interface DomainEvents {
  createdAt: string;
  id: string;
  name: string;
  payload: unknown;
  relayedAt: string | null;
  relaySeq: number | null;
}

export interface EventSubscribers {
  cursorId: string;
  cursorSeq: Generated<number>;
  lastError: string | null;
  name: string;
  updatedAt: string;
}

export interface FileQuotas {
  ownerId: string;
  usedBytes: number;
}

export interface Files {
  contentType: string;
  createdAt: string;
  description: string;
  id: string;
  name: string;
  ownerId: string;
  sha256: string;
  size: number;
  tags: string;
  teamId: string | null;
  updatedAt: string;
}

export interface FileUploads {
  createdAt: string;
  declaredSha256: string | null;
  description: string;
  expiresAt: string;
  fileId: string | null;
  id: string;
  length: number;
  name: string;
  offset: number;
  ownerId: string;
  tags: string;
  teamId: string | null;
  updatedAt: string;
}

export interface GitRepositories {
  active: boolean | number;
  allowedExtensions: unknown | null;
  branch: string;
  caCert: string | null;
  category: string;
  createdAt: string;
  createdBy: string;
  credentialId: string | null;
  description: string | null;
  headCommit: string | null;
  id: string;
  lastSyncAt: string | null;
  lastSyncError: string | null;
  lastSyncRunId: string | null;
  lastSyncStatus: string;
  name: string;
  nextSyncAt: string | null;
  path: string;
  syncIntervalSeconds: number | null;
  syncOwnerId: string | null;
  updatedAt: string;
  url: string;
  verifyTls: boolean | number;
  webhookCredentialId: string | null;
}

export interface Images {
  backingFile: string | null;
  createdAt: string;
  fileId: string;
  format: string | null;
  id: string;
  kind: string;
  model: string | null;
  ownerId: string;
  teamId: string | null;
  updatedAt: string;
  vendor: string | null;
  vendorSha256: string | null;
  version: string | null;
  virtualSize: number | null;
}

export interface IntegrationConnections {
  apiVersion: string | null;
  caCert: string | null;
  createdAt: string;
  credentialId: string | null;
  system: string;
  timeoutMs: number;
  updatedAt: string;
  updatedBy: string;
  url: string;
  verifyTls: boolean | number;
}

export interface IntegrationObjects {
  externalId: string;
  kind: string;
  localId: string;
  syncedAt: string;
  system: string;
}

export interface Interfaces {
  createdAt: string;
  customFields: unknown;
  description: Generated<string>;
  deviceId: string;
  enabled: Generated<boolean | number>;
  id: string;
  lagId: string | null;
  macAddress: string | null;
  mtu: number | null;
  name: string;
  parentId: string | null;
  speed: number | null;
  type: Generated<string>;
  updatedAt: string;
}

export interface IpAddresses {
  address: string;
  createdAt: string;
  customFields: unknown;
  description: Generated<string>;
  dnsName: Generated<string>;
  family: number;
  host: string;
  id: string;
  interfaceId: string | null;
  namespace: Generated<string>;
  prefixLength: number;
  status: Generated<string>;
  updatedAt: string;
}

export interface JobDeviceLocks {
  deviceKey: string;
  expiresAt: string;
  runId: string;
  slot: number;
  targetIdx: number;
}

export interface JobLogs {
  level: string;
  message: string;
  runId: string;
  seq: number;
  target: string | null;
  ts: string;
}

export interface JobRuns {
  attempt: number;
  backoffMs: number;
  blockedBy: string | null;
  cancelRequested: boolean | number;
  changesDevices: boolean | number;
  createdAt: string;
  credentialId: string | null;
  expiresAt: string | null;
  finishedAt: string | null;
  id: string;
  idempotencyKey: string | null;
  initiatorId: string | null;
  initiatorKind: string | null;
  initiatorUserId: string | null;
  leaseExpiresAt: string | null;
  leaseOwner: string | null;
  logDropped: number;
  logNextSeq: number;
  maxAttempts: number;
  notBefore: string | null;
  output: unknown | null;
  params: unknown;
  priority: number;
  reason: string | null;
  requestHash: string | null;
  retryOf: string | null;
  startedAt: string | null;
  status: string;
  targetConcurrency: number;
  targets: unknown;
  targetTimeoutMs: number;
  teamId: string | null;
  templateId: string | null;
  timeoutMs: number;
  triggeredBy: string | null;
  triggerKind: string;
  type: string;
  updatedAt: string;
  workerId: string | null;
}

export interface JobRunTargets {
  attempt: number;
  credentialId: string | null;
  credentialProfileId: string | null;
  credentialSource: string | null;
  deviceId: string | null;
  deviceName: string | null;
  durationMs: number | null;
  error: string | null;
  finishedAt: string | null;
  host: string;
  idx: number;
  networkDriver: string | null;
  output: string | null;
  parsed: unknown | null;
  runId: string;
  selector: string | null;
  startedAt: string | null;
  status: string;
}

export interface JobTemplates {
  backoffMs: number;
  createdAt: string;
  credentialId: string | null;
  description: string | null;
  folder: string | null;
  id: string;
  maxAttempts: number;
  name: string;
  params: unknown;
  priority: number;
  tags: unknown;
  targetConcurrency: number;
  targets: unknown;
  targetTimeoutMs: number;
  teamId: string | null;
  timeoutMs: number;
  type: string;
  updatedAt: string;
}

export interface JobWorkers {
  concurrency: number;
  hostname: string;
  id: string;
  lastSeenAt: string;
  pid: number;
  startedAt: string;
}

export interface Locations {
  createdAt: string;
  credentialProfileId: string | null;
  customFields: unknown;
  description: Generated<string>;
  id: string;
  locationType: Generated<string>;
  name: string;
  parentId: string | null;
  updatedAt: string;
}

export interface Manufacturers {
  createdAt: string;
  description: Generated<string>;
  id: string;
  name: string;
  updatedAt: string;
}

export interface NotificationAttempts {
  at: string;
  attempt: number;
  durationMs: number;
  error: string | null;
  id: string;
  notificationId: string;
  statusCode: number | null;
}

export interface NotificationChannels {
  createdAt: string;
  enabled: boolean | number;
  id: string;
  keyId: string | null;
  name: string;
  secretsSealed: string | null;
  settings: string;
  template: string | null;
  type: string;
  updatedAt: string;
  wrappedKey: string | null;
}

export interface NotificationGroupMembers {
  addedAt: string;
  alertId: string;
  notificationId: string;
}

export interface NotificationRules {
  channelIds: string;
  createdAt: string;
  enabled: boolean | number;
  escalateAfterMinutes: number | null;
  escalationChannelIds: string;
  groupBy: Generated<string>;
  groupWindowSeconds: Generated<number>;
  id: string;
  match: string;
  name: string;
  quietHours: string | null;
  repeatIntervalSeconds: number | null;
  updatedAt: string;
}

export interface Notifications {
  action: string;
  alertId: string | null;
  attempts: number;
  channelId: string;
  createdAt: string;
  deliveredAt: string | null;
  groupKey: string | null;
  id: string;
  kind: string;
  lastError: string | null;
  lastStatusCode: number | null;
  nextAttemptAt: string | null;
  payload: string;
  ruleId: string | null;
  status: string;
  updatedAt: string;
}

export interface ParserLibraries {
  commitSha: string;
  createdAt: string;
  id: string;
  indexText: string;
  name: string;
  skipped: unknown;
  sourcePath: string;
  templates: number;
  updatedAt: string;
}

export interface ParserLibraryFiles {
  content: string;
  contentHash: string;
  libraryId: string;
  name: string;
}

export interface ParserTemplates {
  command: string | null;
  content: string;
  createdAt: string;
  description: string | null;
  id: string;
  name: string;
  platform: string | null;
  updatedAt: string;
}

export interface Platforms {
  createdAt: string;
  description: Generated<string>;
  id: string;
  manufacturerId: string | null;
  name: string;
  networkDriver: Generated<string>;
  updatedAt: string;
}

export interface RecoveryCodes {
  codeHash: string;
  id: string;
  usedAt: string | null;
  userId: string;
}

export interface RefreshTokens {
  createdAt: string;
  expiresAt: string;
  id: string;
  rotatedAt: string | null;
  sessionId: string;
  tokenHash: string;
}

export interface Roles {
  builtin: boolean | number;
  createdAt: string;
  description: string;
  id: string;
  name: string;
  permissions: unknown;
  updatedAt: string;
}

export interface ScheduleFires {
  claimedAt: string;
  claimedBy: string;
  dueAt: string;
  enqueuedAt: string | null;
  fireAt: string;
  id: string;
  missedCount: number;
  outcome: string;
  reason: string | null;
  runId: string | null;
  scheduleId: string;
  trigger: string;
}

export interface Schedules {
  anchorAt: string | null;
  at: string | null;
  createdAt: string;
  cron: string | null;
  description: string | null;
  enabled: boolean | number;
  endAt: string | null;
  id: string;
  intervalSeconds: number | null;
  jitterSeconds: number;
  kind: string;
  lastFireAt: string | null;
  misfire: string;
  name: string;
  nextDueAt: string | null;
  nextFireAt: string | null;
  overlap: string;
  overrides: unknown;
  ownerId: string;
  pausedReason: string | null;
  startAt: string | null;
  teamId: string | null;
  templateId: string;
  timezone: string;
  updatedAt: string;
}

export interface Secrets {
  ciphertext: string;
  createdAt: string;
  createdBy: string;
  description: string;
  id: string;
  key: string;
  keyId: string;
  lastUsedAt: string | null;
  updatedAt: string;
  updatedBy: string;
  wrappedKey: string;
}

export interface Sessions {
  createdAt: string;
  expiresAt: string;
  id: string;
  ip: string;
  lastUsedAt: string;
  revokedAt: string | null;
  revokedReason: string | null;
  userAgent: string;
  userId: string;
}

export interface Settings {
  key: string;
  updatedAt: string;
  updatedBy: string | null;
  value: unknown;
  version: Generated<number>;
}

export interface SshHostKeys {
  createdAt: string;
  deviceId: string | null;
  fingerprint: string;
  host: string;
  id: string;
  lastSeenAt: string;
  port: number;
  target: string;
}

export interface Statuses {
  color: Generated<string>;
  createdAt: string;
  description: Generated<string>;
  id: string;
  name: string;
  updatedAt: string;
}

export interface StreamTickets {
  authAt: number | null;
  createdAt: string;
  credentialId: string;
  expiresAt: string;
  kind: "user" | "api_key";
  mfaAt: number | null;
  sessionId: string | null;
  ticketHash: string;
  userId: string;
}

export interface SystemLogs {
  fields: unknown;
  id: Generated<number>;
  level: string;
  message: string;
  node: string;
  source: string;
  time: string;
}

export interface Tags {
  color: Generated<string>;
  createdAt: string;
  description: Generated<string>;
  id: string;
  name: string;
  updatedAt: string;
}

export interface TeamMembers {
  createdAt: string;
  teamId: string;
  userId: string;
}

export interface Teams {
  createdAt: string;
  description: string;
  id: string;
  name: string;
  nameKey: string;
  updatedAt: string;
}

export interface TokenRevocations {
  createdAt: string;
  expiresAt: string;
  id: string;
  kind: "jti" | "sid";
}

export interface TopologyLinks {
  aInterfaceId: string;
  bInterfaceId: string;
  createdAt: string;
  description: Generated<string>;
  id: string;
  kind: Generated<string>;
  updatedAt: string;
}

export interface UserRoles {
  roleId: string;
  userId: string;
}

export interface Users {
  createdAt: string;
  displayName: string;
  email: string;
  emailKey: string;
  failedLogins: number;
  id: string;
  lastLoginAt: string | null;
  lockedUntil: string | null;
  mustChangePassword: boolean | number;
  passwordHash: string;
  status: "active" | "disabled";
  totpLastStep: number | null;
  totpPendingSecret: string | null;
  totpSecret: string | null;
  updatedAt: string;
  username: string;
  usernameKey: string;
}

export interface WebhookDeliveries {
  attempts: Generated<number>;
  body: string;
  createdAt: string;
  durationMs: number | null;
  error: string | null;
  eventId: string;
  eventName: string;
  id: string;
  nextAttemptAt: string | null;
  status: string;
  statusCode: number | null;
  updatedAt: string;
  webhookId: string;
}

export interface Webhooks {
  createdAt: string;
  enabled: boolean | number;
  events: unknown;
  id: string;
  keyId: string;
  name: string;
  secretSealed: string;
  updatedAt: string;
  url: string;
  wrappedKey: string;
}

export interface WorkflowExecutions {
  actorId: string;
  cancelRequested: boolean | number;
  createdAt: string;
  error: string | null;
  finishedAt: string | null;
  id: string;
  leaseOwner: string | null;
  leaseUntil: string | null;
  retryOf: string | null;
  startedAt: string | null;
  status: string;
  teamId: string | null;
  trigger: string;
  triggerKind: string;
  updatedAt: string;
  version: number;
  workflowId: string;
}

export interface WorkflowNodeRuns {
  attempt: number;
  decision: string | null;
  error: string | null;
  executionId: string;
  finishedAt: string | null;
  input: string | null;
  jobRunId: string | null;
  nodeId: string;
  output: string | null;
  port: string | null;
  startedAt: string | null;
  status: string;
  type: string;
}

export interface Workflows {
  createdAt: string;
  description: string;
  enabled: boolean | number;
  folder: string;
  graph: string;
  id: string;
  inputSchema: string;
  name: string;
  ownerId: string;
  tags: string;
  teamId: string | null;
  triggerEvents: string;
  updatedAt: string;
  version: number;
  webhookTokenHash: string | null;
}

export interface WorkflowVersions {
  createdAt: string;
  createdBy: string;
  graph: string;
  inputSchema: string;
  version: number;
  workflowId: string;
}

export interface DB {
  alertIngestTokens: AlertIngestTokens;
  alertLabels: AlertLabels;
  alerts: Alerts;
  apiKeys: ApiKeys;
  auditLog: AuditLog;
  configCommits: ConfigCommits;
  configComplianceResults: ConfigComplianceResults;
  configComplianceRules: ConfigComplianceRules;
  configProfiles: ConfigProfiles;
  configTemplates: ConfigTemplates;
  configTemplateVersions: ConfigTemplateVersions;
  configVersions: ConfigVersions;
  credentialAccessLog: CredentialAccessLog;
  credentialProfileEntries: CredentialProfileEntries;
  credentialProfileHits: CredentialProfileHits;
  credentialProfiles: CredentialProfiles;
  credentials: Credentials;
  customFieldDefinitions: CustomFieldDefinitions;
  deviceGroupMembers: DeviceGroupMembers;
  deviceGroups: DeviceGroups;
  deviceRoles: DeviceRoles;
  devices: Devices;
  deviceTags: DeviceTags;
  deviceTypes: DeviceTypes;
  discoveryHosts: DiscoveryHosts;
  discoveryScans: DiscoveryScans;
  domainEvents: DomainEvents;
  eventSubscribers: EventSubscribers;
  fileQuotas: FileQuotas;
  files: Files;
  fileUploads: FileUploads;
  gitRepositories: GitRepositories;
  images: Images;
  integrationConnections: IntegrationConnections;
  integrationObjects: IntegrationObjects;
  interfaces: Interfaces;
  ipAddresses: IpAddresses;
  jobDeviceLocks: JobDeviceLocks;
  jobLogs: JobLogs;
  jobRuns: JobRuns;
  jobRunTargets: JobRunTargets;
  jobTemplates: JobTemplates;
  jobWorkers: JobWorkers;
  locations: Locations;
  manufacturers: Manufacturers;
  notificationAttempts: NotificationAttempts;
  notificationChannels: NotificationChannels;
  notificationGroupMembers: NotificationGroupMembers;
  notificationRules: NotificationRules;
  notifications: Notifications;
  parserLibraries: ParserLibraries;
  parserLibraryFiles: ParserLibraryFiles;
  parserTemplates: ParserTemplates;
  platforms: Platforms;
  recoveryCodes: RecoveryCodes;
  refreshTokens: RefreshTokens;
  roles: Roles;
  scheduleFires: ScheduleFires;
  schedules: Schedules;
  secrets: Secrets;
  sessions: Sessions;
  settings: Settings;
  sshHostKeys: SshHostKeys;
  statuses: Statuses;
  streamTickets: StreamTickets;
  systemLogs: SystemLogs;
  tags: Tags;
  teamMembers: TeamMembers;
  teams: Teams;
  tokenRevocations: TokenRevocations;
  topologyLinks: TopologyLinks;
  userRoles: UserRoles;
  users: Users;
  webhookDeliveries: WebhookDeliveries;
  webhooks: Webhooks;
  workflowExecutions: WorkflowExecutions;
  workflowNodeRuns: WorkflowNodeRuns;
  workflows: Workflows;
  workflowVersions: WorkflowVersions;
}
