import type { Actor } from '../../platform/http/auth.js';

/**
 * The narrow slice of the credential vault that jobs consume (the jobs engine's port). The vault
 * (modules/credentials) implements `CredentialResolver`; modules.ts hands it in.
 */
export interface ResolvedCredential {
  id: string;
  username?: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
  /** Network devices: the enable secret. */
  enablePassword?: string;
  /** SNMP v2c */
  community?: string;
  /** SNMP v3 */
  snmpV3?: {
    user: string;
    level: 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';
    authProtocol?: 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
    authKey?: string;
    privProtocol?: 'des' | 'aes' | 'aes256b' | 'aes256r';
    privKey?: string;
  };
  /** HTTP: a token, sent as `Authorization: Bearer` unless `headerName` names another header */
  token?: string;
  headerName?: string;
}

export interface CredentialResolver {
  /**
   * Decrypts a credential for one run as `actor` (the run's initiating principal: the vault
   * refuses one outside their teams or without `credentials:use`, and audits the use as theirs,
   * with `purpose` and `runId`).
   */
  resolve(credentialId: string, purpose: string, runId: string, actor?: Actor): Promise<ResolvedCredential>;
  /** Whether the credential exists (checked when a run is created, so a typo is a 4xx). */
  exists(credentialId: string): Promise<boolean>;
  /**
   * Whether `actor` may use the credential or credential profile `id`: it exists, is in their
   * team scope, and they hold `credentials:use`. Using a credential is reading it: every path
   * that names one asks this for the initiating principal, at creation and at execution.
   */
  canUse(actor: Actor, id: string): Promise<boolean>;
  /** The team (null: shared) of each credential or profile among `ids` that exists (run scoping and redaction). */
  teamsOf?(ids: readonly string[]): Promise<Map<string, string | null>>;
  /** Whether a credential profile of that id exists (a run's or a device's `credential_profile_id`). */
  profileExists?(profileId: string): Promise<boolean>;
  /**
   * Tries a profile's credentials against one device until one logs in (the one that worked
   * last for `deviceKey` first, see modules/credentials `tryInOrder`); `attempt` throws an
   * authentication error to move on. Returns the winner's id with the attempt's result.
   */
  tryProfile?<T>(
    profileId: string,
    deviceKey: string,
    attempt: (credential: ResolvedCredential) => Promise<T>,
    context: { purpose: string; runId: string; actor?: Actor },
  ): Promise<{ result: T; credentialId: string }>;
}

/** Every secret value of a credential, for the scrubber. */
export function secretsOf(credential: ResolvedCredential): string[] {
  const out = [credential.password, credential.privateKey, credential.passphrase, credential.enablePassword, credential.community, credential.token];
  if (credential.snmpV3) out.push(credential.snmpV3.authKey, credential.snmpV3.privKey);
  return out.filter((s): s is string => typeof s === 'string' && s.length > 0);
}
