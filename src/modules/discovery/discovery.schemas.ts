import { Type, type Static } from 'typebox';
import { Uuid } from '../../platform/http/schemas.js';
import { HostResult } from './host-result.js';

const Entry = Type.String({ minLength: 1, maxLength: 100, description: 'An address, a CIDR (10.0.0.0/24, 2001:db8::/120) or a range (10.0.0.5-10.0.0.20)' });
const ProfileIds = (what: string) =>
  Type.Array(Uuid, {
    maxItems: 10,
    uniqueItems: true,
    description: `${what} credential profiles tried in order on each host (the vault's fallback); the one that worked is recorded by id`,
  });

export const CreateScanBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    targets: Type.Array(Entry, { minItems: 1, maxItems: 256 }),
    exclude: Type.Optional(Type.Array(Entry, { maxItems: 256, description: 'Addresses, CIDRs or ranges left out' })),
    liveness: Type.Optional(
      Type.Union([Type.Literal('icmp'), Type.Literal('tcp'), Type.Literal('both')], { description: 'ICMP echo, TCP connect to `ports`, or both (tcp)' }),
    ),
    ports: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
        minItems: 1,
        maxItems: 64,
        uniqueItems: true,
        description: 'TCP ports probed ([22, 23, 80, 443])',
      }),
    ),
    ssh_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Where SSH is tried when open (22); it is probed whatever `ports` says' })),
    snmp_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'UDP port for SNMP (161)' })),
    ssh_profile_ids: Type.Optional(ProfileIds('SSH')),
    snmp_profile_ids: Type.Optional(ProfileIds('SNMP')),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 50, maximum: 30_000, description: 'Per probe (1000)' })),
    rate_per_second: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Probes per second across the scan (200)' })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'Hosts worked on at once (50)' })),
  },
  { additionalProperties: false },
);
export type CreateScanBody = Static<typeof CreateScanBody>;

export const Progress = Type.Object(
  {
    hosts: Type.Integer(),
    probed: Type.Integer(),
    alive: Type.Integer(),
    identified: Type.Integer({ description: 'Alive hosts whose platform was classified' }),
  },
  { additionalProperties: false },
);
export const Scan = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 200 }),
    run_id: Type.String({ maxLength: 36, description: 'The job run doing the scan: its live log is /api/v1/jobs/runs/{run_id}/events' }),
    status: Type.String({ maxLength: 30, description: "The job run's status" }),
    targets: Type.Array(Type.String({ maxLength: 100 })),
    exclude: Type.Array(Type.String({ maxLength: 100 })),
    settings: Type.Record(Type.String({ maxLength: 50 }), Type.Unknown(), { description: 'Liveness, ports, profiles, timeout, rate' }),
    progress: Progress,
    created_by: Type.String({ maxLength: 200 }),
    created_at: Type.String({ format: 'date-time', maxLength: 40 }),
  },
  { additionalProperties: false },
);
export const ScanList = Type.Object(
  { items: Type.Array(Scan), next_cursor: Type.Union([Type.String({ maxLength: 36 }), Type.Null()]) },
  { additionalProperties: false },
);
export const ScanParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const ScanListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), cursor: Type.Optional(Type.String({ maxLength: 36 })) },
  { additionalProperties: false },
);

export const Edits = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })),
    platform: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Inventory platform id or name' })),
    role: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    status: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false, description: 'Values that replace what was discovered when the host is onboarded' },
);
const Change = Type.Object(
  {
    field: Type.String({ maxLength: 50 }),
    inventory: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
    discovered: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export const HostView = Type.Object(
  {
    ...HostResult.properties,
    state: Type.Union([Type.Literal('new'), Type.Literal('changed'), Type.Literal('unchanged'), Type.Literal('missing'), Type.Literal('absent')], {
      description:
        'Against the inventory: new (alive, no device), changed/unchanged (a device matches), missing (a device has this address, nothing answered), absent (nothing either side)',
    }),
    device_id: Type.Union([Uuid, Type.Null()]),
    changes: Type.Array(Change),
    previous: Type.Union([Type.Literal('appeared'), Type.Literal('disappeared'), Type.Literal('same'), Type.Null()], {
      description: 'Against the previous scan of the same range (null: no previous scan)',
    }),
    decision: Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('rejected'), Type.Literal('onboarded')]),
    edits: Edits,
  },
  { additionalProperties: false },
);
export type HostView = Static<typeof HostView>;
export const HostList = Type.Object({ scan_id: Uuid, items: Type.Array(HostView) }, { additionalProperties: false });
export const HostListQuery = Type.Object(
  { state: Type.Optional(Type.Array(HostView.properties.state, { maxItems: 5 })), alive: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const ReviewBody = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          address: Type.String({ minLength: 1, maxLength: 45 }),
          decision: Type.Union([Type.Literal('accepted'), Type.Literal('rejected')]),
          edits: Type.Optional(Edits),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
);
export type ReviewBody = Static<typeof ReviewBody>;
export const ReviewResult = Type.Object({ updated: Type.Integer() }, { additionalProperties: false });

export const OnboardBody = Type.Object(
  {
    dry_run: Type.Optional(Type.Boolean({ description: 'Answer the plan and change nothing (false)' })),
    addresses: Type.Optional(
      Type.Array(Type.String({ maxLength: 45 }), { minItems: 1, maxItems: 1000, description: 'Only these accepted hosts (all accepted ones)' }),
    ),
  },
  { additionalProperties: false },
);
export type OnboardBody = Static<typeof OnboardBody>;
export const OnboardReport = Type.Object(
  {
    dry_run: Type.Boolean(),
    devices: Type.Array(
      Type.Object(
        {
          address: Type.String({ maxLength: 45 }),
          action: Type.Union([Type.Literal('create'), Type.Literal('update'), Type.Literal('unchanged')]),
          device_id: Type.Union([Uuid, Type.Null()]),
          name: Type.String({ maxLength: 200 }),
          fields: Type.Record(Type.String({ maxLength: 50 }), Type.Unknown()),
        },
        { additionalProperties: false },
      ),
    ),
    interfaces_created: Type.Integer(),
    ip_addresses_created: Type.Integer(),
    links_created: Type.Integer(),
  },
  { additionalProperties: false },
);
export type OnboardReport = Static<typeof OnboardReport>;
