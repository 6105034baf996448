/** The integrations module's tables as Kysely sees them (camelCase under CamelCasePlugin). */
export type IntegrationsTables = {
  integrationConnections: {
    system: string;
    url: string;
    credentialId: string | null;
    timeoutMs: number;
    verifyTls: number | boolean;
    caCert: string | null;
    apiVersion: string | null;
    updatedBy: string;
    createdAt: string;
    updatedAt: string;
  };
  /** External id ↔ Opsdeck id, per system and object kind (the "external ids kept on both sides" of a sync). */
  integrationObjects: {
    system: string;
    kind: string;
    externalId: string;
    localId: string;
    syncedAt: string;
  };
};
