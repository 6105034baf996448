import type { FieldError } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/auth.js';
import type { TargetSpec } from './jobs.schemas.js';
import type { TargetRow } from './runs.repository.js';

/** An inventory selector of a run's `targets` (anything but a plain host string). */
export type Selector = Exclude<TargetSpec, string>;

/** One device a selector matched (the inventory's answer, see modules/inventory/target-selectors.service.ts). */
export interface SelectedDevice {
  deviceId: string;
  name: string;
  host: string | null;
  networkDriver: string | null;
  credentialId: string | null;
  credentialProfileId: string | null;
  locationProfileId: string | null;
  groupProfileId: string | null;
  selector: string;
}

/** The inventory's slice the jobs module uses (wired in modules.ts). */
export interface TargetResolver {
  /** Field errors for selectors that name nothing or hold a bad filter (checked at creation). */
  check(actor: Actor, selectors: readonly { index: number; selector: Selector }[], path: string): Promise<FieldError[]>;
  /** What the selectors match now, with the initiating principal's visibility (at execution). */
  resolve(actor: Actor, selectors: readonly Selector[]): Promise<SelectedDevice[]>;
}

export type CredentialSource = 'run' | 'run_profile' | 'device' | 'device_profile' | 'location_profile' | 'group_profile';

/** A target row's identity and credential plan, filled at resolution and completed after login. */
export interface TargetIdentity {
  deviceName: string | null;
  networkDriver: string | null;
  selector: string | null;
  credentialId: string | null;
  credentialProfileId: string | null;
  credentialSource: CredentialSource | null;
}

export const NO_IDENTITY: TargetIdentity = {
  deviceName: null,
  networkDriver: null,
  selector: null,
  credentialId: null,
  credentialProfileId: null,
  credentialSource: null,
};

/** The progress columns of a target row not yet worked on. */
export const PENDING_TARGET = {
  status: 'pending',
  attempt: 0,
  startedAt: null,
  finishedAt: null,
  durationMs: null,
  output: null,
  parsed: null,
  error: null,
} as const;

export const isSelector = (s: TargetSpec): s is Selector => typeof s !== 'string';

/**
 * Where a target's credential comes from: the run's own (a credential or a profile), else the
 * device's credential, else the device's profile, its location's (nearest up the tree), then the
 * selecting group's; none when nothing is set.
 */
export function credentialPlan(
  run: { credentialId: string | null; credentialIsProfile: boolean },
  d: Omit<SelectedDevice, 'deviceId' | 'name' | 'host' | 'networkDriver' | 'selector'> | null,
): Pick<TargetIdentity, 'credentialId' | 'credentialProfileId' | 'credentialSource'> {
  if (run.credentialId) {
    return run.credentialIsProfile
      ? { credentialId: null, credentialProfileId: run.credentialId, credentialSource: 'run_profile' }
      : { credentialId: run.credentialId, credentialProfileId: null, credentialSource: 'run' };
  }
  if (d?.credentialId) return { credentialId: d.credentialId, credentialProfileId: null, credentialSource: 'device' };
  const profile: [string | null | undefined, CredentialSource][] = [
    [d?.credentialProfileId, 'device_profile'],
    [d?.locationProfileId, 'location_profile'],
    [d?.groupProfileId, 'group_profile'],
  ];
  for (const [id, source] of profile) if (id) return { credentialId: null, credentialProfileId: id, credentialSource: source };
  return { credentialId: null, credentialProfileId: null, credentialSource: null };
}

export const NO_DEVICE_ADDRESS = 'the device has no primary IP address or host name';

/** Rows for the devices a run's selectors matched (a device without an address fails at once). */
export function rowsFor(
  devices: readonly (SelectedDevice & { plan: ReturnType<typeof credentialPlan> })[],
  attempt: number,
  now: string,
): Omit<TargetRow, 'runId'>[] {
  return devices.map((d, idx) => ({
    idx,
    host: d.host ?? d.name,
    deviceId: d.deviceId,
    status: d.host ? 'pending' : 'failed',
    attempt: d.host ? 0 : attempt,
    startedAt: null,
    finishedAt: d.host ? null : now,
    durationMs: null,
    output: null,
    parsed: null,
    error: d.host ? null : NO_DEVICE_ADDRESS,
    deviceName: d.name,
    networkDriver: d.networkDriver,
    selector: d.selector,
    ...d.plan,
  }));
}
