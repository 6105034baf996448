/** The credential vault's tables as Kysely sees them (camelCase under CamelCasePlugin). */
export type CredentialsTables = {
  credentials: {
    id: string;
    name: string;
    nameKey: string;
    type: string;
    description: string;
    tags: unknown;
    teamId: string | null;
    attributes: unknown;
    secretFields: unknown;
    keyId: string;
    wrappedKey: string;
    /** JSON object field → sealed text. */
    ciphertext: string;
    expiresAt: string | null;
    expiryNotifiedAt: string | null;
    createdBy: string;
    updatedBy: string;
    lastUsedAt: string | null;
    lastUsedBy: string | null;
    createdAt: string;
    updatedAt: string;
  };
  secrets: {
    id: string;
    key: string;
    description: string;
    keyId: string;
    wrappedKey: string;
    ciphertext: string;
    createdBy: string;
    updatedBy: string;
    lastUsedAt: string | null;
    createdAt: string;
    updatedAt: string;
  };
  credentialProfiles: { id: string; name: string; nameKey: string; description: string; teamId: string | null; createdAt: string; updatedAt: string };
  credentialProfileEntries: { profileId: string; position: number; credentialId: string };
  credentialProfileHits: { profileId: string; deviceKey: string; credentialId: string; succeededAt: string };
  credentialAccessLog: {
    id: string;
    time: string;
    resourceType: 'credential' | 'secret';
    resourceId: string;
    action: 'resolve' | 'reveal' | 'test';
    actorKind: string;
    actorId: string;
    actorName: string;
    purpose: string;
    jobRunId: string | null;
    outcome: string;
  };
};
