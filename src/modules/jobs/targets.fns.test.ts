import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { factsOf } from './executors/facts.fns.js';
import { defaultMode } from './executors/ssh-command.js';
import { initiatorOf, RunRefused } from './run-targets.js';
import { credentialPlan, NO_DEVICE_ADDRESS, rowsFor } from './targets.js';

const device = { credentialId: null, credentialProfileId: null, locationProfileId: null, groupProfileId: null };

describe('credentialPlan', () => {
  const cases: [string, Parameters<typeof credentialPlan>[0], Parameters<typeof credentialPlan>[1], ReturnType<typeof credentialPlan>][] = [
    [
      'the run credential wins',
      { credentialId: 'c-run', credentialIsProfile: false },
      { ...device, credentialId: 'c-dev' },
      { credentialId: 'c-run', credentialProfileId: null, credentialSource: 'run' },
    ],
    [
      'a run profile wins',
      { credentialId: 'p-run', credentialIsProfile: true },
      { ...device, credentialId: 'c-dev' },
      { credentialId: null, credentialProfileId: 'p-run', credentialSource: 'run_profile' },
    ],
    [
      "then the device's credential",
      { credentialId: null, credentialIsProfile: false },
      { ...device, credentialId: 'c-dev', credentialProfileId: 'p-dev' },
      { credentialId: 'c-dev', credentialProfileId: null, credentialSource: 'device' },
    ],
    [
      "then the device's profile",
      { credentialId: null, credentialIsProfile: false },
      { ...device, credentialProfileId: 'p-dev', locationProfileId: 'p-loc' },
      { credentialId: null, credentialProfileId: 'p-dev', credentialSource: 'device_profile' },
    ],
    [
      "then the location's",
      { credentialId: null, credentialIsProfile: false },
      { ...device, locationProfileId: 'p-loc', groupProfileId: 'p-grp' },
      { credentialId: null, credentialProfileId: 'p-loc', credentialSource: 'location_profile' },
    ],
    [
      "then the group's",
      { credentialId: null, credentialIsProfile: false },
      { ...device, groupProfileId: 'p-grp' },
      { credentialId: null, credentialProfileId: 'p-grp', credentialSource: 'group_profile' },
    ],
    ['else none', { credentialId: null, credentialIsProfile: false }, device, { credentialId: null, credentialProfileId: null, credentialSource: null }],
    [
      'a plain host takes the run one',
      { credentialId: 'c-run', credentialIsProfile: false },
      null,
      { credentialId: 'c-run', credentialProfileId: null, credentialSource: 'run' },
    ],
  ];
  it.each(cases)('%s', (_name, run, d, expected) => expect(credentialPlan(run, d)).toEqual(expected));
});

describe('rowsFor', () => {
  it('records each device with its selector and fails one without an address at once', () => {
    const plan = credentialPlan({ credentialId: null, credentialIsProfile: false }, null);
    const rows = rowsFor(
      [
        { deviceId: 'd1', name: 'r1', host: '10.0.0.1', networkDriver: 'cisco_ios', selector: 'role:core', ...device, plan },
        { deviceId: 'd2', name: 'r2', host: null, networkDriver: null, selector: 'tag:pci', ...device, plan },
      ],
      1,
      '2026-12-07T00:00:00.000Z',
    );
    expect(rows.map((r) => [r.idx, r.host, r.deviceId, r.deviceName, r.selector, r.networkDriver, r.status, r.error])).toEqual([
      [0, '10.0.0.1', 'd1', 'r1', 'role:core', 'cisco_ios', 'pending', null],
      [1, 'r2', 'd2', 'r2', 'tag:pci', null, 'failed', NO_DEVICE_ADDRESS],
    ]);
  });
});

describe('initiatorOf', () => {
  const user = (permissions: string[]): Actor => ({ kind: 'user', id: 'u1', name: 'alice', permissions: new Set(permissions), teamIds: [] });
  const none = { initiatorKind: null, initiatorId: null };
  it('acts as the system for runs the system started (workflows, the CLI, runs stored before initiators)', async () => {
    expect(await initiatorOf({ triggerKind: 'schedule', triggeredBy: 's1', ...none }, { actorOf: async () => null })).toBe(SYSTEM_ACTOR);
    expect(await initiatorOf({ triggerKind: 'system', triggeredBy: null, ...none }, { actorOf: async () => null })).toBe(SYSTEM_ACTOR);
  });
  it("answers the user's current rights", async () => {
    const actor = user(['jobs:run', 'devices:read']);
    expect(await initiatorOf({ triggerKind: 'user', triggeredBy: 'u1', ...none }, { actorOf: async () => actor })).toBe(actor);
  });
  it("acts as a schedule's owner, as the owner is now", async () => {
    const actor = user(['jobs:run']);
    const asked: string[] = [];
    expect(
      await initiatorOf(
        { triggerKind: 'schedule', triggeredBy: 's1', initiatorKind: 'user', initiatorId: 'u1' },
        { actorOf: async (kind, id) => (asked.push(`${kind}:${id}`), actor) },
      ),
    ).toBe(actor);
    expect(asked).toEqual(['user:u1']);
    await expect(
      initiatorOf({ triggerKind: 'schedule', triggeredBy: 's1', initiatorKind: 'user', initiatorId: 'u1' }, { actorOf: async () => null }),
    ).rejects.toThrow(/owner of schedule s1 no longer exists/);
  });
  it('refuses a user who lost jobs:run, or is gone', async () => {
    await expect(initiatorOf({ triggerKind: 'user', triggeredBy: 'u1', ...none }, { actorOf: async () => user(['jobs:read']) })).rejects.toThrow(RunRefused);
    await expect(initiatorOf({ triggerKind: 'api_key', triggeredBy: 'k1', ...none }, { actorOf: async () => null })).rejects.toThrow(
      /API key .* no longer exists/,
    );
  });
});

describe('platform helpers', () => {
  it.each([
    ['cisco_ios', 'device'],
    ['arista_eos', 'device'],
    ['linux', 'exec'],
    [null, 'exec'],
    [undefined, 'exec'],
  ] as const)('defaultMode(%s) is %s', (driver, mode) => expect(defaultMode(driver)).toBe(mode));

  it.each([
    [
      'ntc lower-case columns, list serial',
      [{ version: '15.2(4)M7', serial: ['', '9KLIE1234'], hostname: 'R1' }],
      { os_version: '15.2(4)M7', serial: '9KLIE1234', hostname: 'R1' },
    ],
    ['upper-case columns', [{ VERSION: '4.28.0F', SERIAL_NUMBER: 'JPE123', HOSTNAME: 'sw1' }], { os_version: '4.28.0F', serial: 'JPE123', hostname: 'sw1' }],
    ['nothing useful', [{ uptime: '3 weeks' }], {}],
    ['no records', [], {}],
    ['not records', 'text', {}],
  ])('factsOf: %s', (_name, records, expected) => expect(factsOf(records)).toEqual(expected));
});
