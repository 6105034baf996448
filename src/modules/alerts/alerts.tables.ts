/** The alerts module's tables as Kysely sees them (camelCase under CamelCasePlugin). */
export type AlertsTables = {
  alerts: {
    id: string;
    source: string;
    title: string;
    description: string;
    severity: string;
    /** JSON text of `Record<string, string>` (text on both dialects: CamelCasePlugin would rename jsonb keys). */
    labels: string;
    dedupKey: string;
    openKey: string | null;
    state: string;
    count: number;
    assigneeId: string | null;
    /** JSON text of `Note[]`. */
    notes: string;
    autoResolveAt: string | null;
    firstSeenAt: string;
    lastSeenAt: string;
    acknowledgedAt: string | null;
    acknowledgedBy: string | null;
    resolvedAt: string | null;
    resolvedBy: string | null;
    createdAt: string;
    updatedAt: string;
  };
  alertLabels: { alertId: string; key: string; value: string };
  alertIngestTokens: { id: string; name: string; tokenHash: string; source: string; createdBy: string; lastUsedAt: string | null; createdAt: string };
  notificationChannels: {
    id: string;
    name: string;
    type: string;
    /** JSON text of the channel type's non-secret settings. */
    settings: string;
    template: string | null;
    enabled: number | boolean;
    keyId: string | null;
    wrappedKey: string | null;
    /** JSON text of the sealed secret fields. */
    secretsSealed: string | null;
    createdAt: string;
    updatedAt: string;
  };
  notificationRules: {
    id: string;
    name: string;
    enabled: number | boolean;
    match: string;
    channelIds: string;
    repeatIntervalSeconds: number | null;
    quietHours: string | null;
    escalateAfterMinutes: number | null;
    escalationChannelIds: string;
    createdAt: string;
    updatedAt: string;
  };
  notifications: {
    id: string;
    alertId: string | null;
    channelId: string;
    ruleId: string | null;
    kind: string;
    action: string;
    payload: string;
    status: string;
    attempts: number;
    nextAttemptAt: string | null;
    lastStatusCode: number | null;
    lastError: string | null;
    deliveredAt: string | null;
    createdAt: string;
    updatedAt: string;
  };
  notificationAttempts: { id: string; notificationId: string; attempt: number; statusCode: number | null; error: string | null; durationMs: number; at: string };
};
