/** The identity module's tables as Kysely sees them (camelCase under CamelCasePlugin). */
export type UserStatus = 'active' | 'disabled';

export type IdentityTables = {
  users: {
    id: string;
    username: string;
    usernameKey: string;
    email: string;
    emailKey: string;
    displayName: string;
    passwordHash: string;
    status: UserStatus;
    mustChangePassword: number | boolean;
    failedLogins: number;
    lockedUntil: string | null;
    totpSecret: string | null;
    totpPendingSecret: string | null;
    totpLastStep: number | null;
    lastLoginAt: string | null;
    createdAt: string;
    updatedAt: string;
  };
  roles: { id: string; name: string; description: string; builtin: number | boolean; permissions: unknown; createdAt: string; updatedAt: string };
  userRoles: { userId: string; roleId: string };
  teams: { id: string; name: string; nameKey: string; description: string; createdAt: string; updatedAt: string };
  teamMembers: { teamId: string; userId: string; createdAt: string };
  sessions: {
    id: string;
    userId: string;
    userAgent: string;
    ip: string;
    createdAt: string;
    lastUsedAt: string;
    expiresAt: string;
    revokedAt: string | null;
    revokedReason: string | null;
  };
  refreshTokens: { id: string; sessionId: string; tokenHash: string; createdAt: string; expiresAt: string; rotatedAt: string | null };
  tokenRevocations: { id: string; kind: 'jti' | 'sid'; expiresAt: string; createdAt: string };
  streamTickets: {
    ticketHash: string;
    kind: 'user' | 'api_key';
    userId: string;
    credentialId: string;
    sessionId: string | null;
    mfaAt: number | null;
    authAt: number | null;
    expiresAt: string;
    createdAt: string;
  };
  apiKeys: {
    id: string;
    userId: string;
    name: string;
    prefix: string;
    secretHash: string;
    roleId: string | null;
    permissions: unknown;
    expiresAt: string | null;
    lastUsedAt: string | null;
    revokedAt: string | null;
    createdAt: string;
  };
  recoveryCodes: { id: string; userId: string; codeHash: string; usedAt: string | null };
  auditLog: {
    id: string;
    time: string;
    actorKind: string;
    actorId: string | null;
    actorName: string;
    action: string;
    resourceType: string;
    resourceId: string | null;
    outcome: string;
    ip: string | null;
    requestId: string | null;
    userAgent: string | null;
    changes: unknown;
  };
};
