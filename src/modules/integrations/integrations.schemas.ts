import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { INTERFACE_FIELDS, IP_FIELDS, SYNC_FIELDS } from './sync.fns.js';

const Str = (maxLength = 200) => Type.String({ maxLength });
export const SystemName = Type.Union([Type.Literal('nautobot'), Type.Literal('netbox')], { description: 'Which source of truth' });
export const SystemParams = Type.Object({ system: SystemName }, { additionalProperties: false });
export const NautobotOnlyParams = SystemParams;

export const Connection = Type.Object(
  {
    system: SystemName,
    url: Str(2048),
    credential_id: Nullable(Uuid),
    timeout_ms: Type.Integer(),
    verify_tls: Type.Boolean(),
    ca_cert_set: Type.Boolean(),
    api_version: Nullable(Str(50)),
    source: Type.Union([Type.Literal('database'), Type.Literal('environment')], {
      description: '`environment`: no saved connection; OPSDECK_<SYSTEM>_URL/_TOKEN are used',
    }),
    updated_at: Nullable(Timestamp),
  },
  { additionalProperties: false },
);
export type Connection = Static<typeof Connection>;

const ConnectionFields = {
  url: Type.String({ format: 'uri', maxLength: 2048, pattern: '^https?://', description: 'Base URL, e.g. https://nautobot.example.com' }),
  credential_id: Type.String({ format: 'uuid', maxLength: 36, description: 'An `api_token` credential in the vault holding the API token' }),
  timeout_ms: Type.Integer({ minimum: 1000, maximum: 120_000, description: 'Per-request timeout (default 30000)' }),
  verify_tls: Type.Boolean({ description: 'Verify the server certificate (default true)' }),
  ca_cert: Nullable(
    Type.String({ maxLength: 20_000, pattern: '-----BEGIN CERTIFICATE-----', description: 'PEM CA bundle to trust instead of the system store' }),
  ),
};
export const PutConnectionBody = Type.Object(
  {
    url: ConnectionFields.url,
    credential_id: ConnectionFields.credential_id,
    timeout_ms: Type.Optional(ConnectionFields.timeout_ms),
    verify_tls: Type.Optional(ConnectionFields.verify_tls),
    ca_cert: Type.Optional(ConnectionFields.ca_cert),
  },
  { additionalProperties: false },
);
export type PutConnectionBody = Static<typeof PutConnectionBody>;
export const TestConnectionBody = Type.Partial(PutConnectionBody, {
  additionalProperties: false,
  description: 'Settings to try; omitted ones come from the saved (or environment) connection',
});
export type TestConnectionBody = Static<typeof TestConnectionBody>;

export const ConnectionTest = Type.Object(
  {
    ok: Type.Boolean(),
    reachable: Type.Boolean(),
    token_valid: Type.Boolean(),
    api_version: Nullable(Str(50)),
    detail: Nullable(Str(1000)),
  },
  { additionalProperties: false },
);
export type ConnectionTest = Static<typeof ConnectionTest>;

const ExtId = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[A-Za-z0-9-]+$',
  description: 'An object id in the source of truth (Nautobot UUID, NetBox integer)',
});
export const ExternalIdParams = Type.Object({ system: SystemName, id: ExtId }, { additionalProperties: false });

export const DevicesQuery = Type.Object(
  {
    q: Type.Optional(Str(100)),
    name: Type.Optional(Str(200)),
    location: Type.Optional(Type.String({ maxLength: 100, description: 'Nautobot: location id or name; NetBox: site id' })),
    role: Type.Optional(Type.String({ maxLength: 100, description: 'Nautobot: role id or name; NetBox: device role id' })),
    platform: Type.Optional(Type.String({ maxLength: 100, description: 'Nautobot: platform id or name; NetBox: platform id' })),
    status: Type.Optional(Type.String({ maxLength: 100, description: 'Nautobot: status id or name; NetBox: status value (active, planned …)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 })),
  },
  { additionalProperties: false },
);

export const RemoteDevice = Type.Object(
  {
    id: Str(100),
    name: Str(200),
    serial: Nullable(Str(255)),
    asset_tag: Nullable(Str(100)),
    status: Nullable(Str(100)),
    role: Nullable(Str(100)),
    location: Nullable(Str(100)),
    platform: Nullable(Str(100)),
    primary_ip4: Nullable(Str(50)),
    url: Str(2048),
  },
  { additionalProperties: false },
);
export const RemoteDevicePage = Type.Object(
  { items: Type.Array(RemoteDevice), count: Type.Integer(), next_offset: Nullable(Type.Integer()) },
  { additionalProperties: false },
);
export const RemoteDeviceDetail = Type.Object(
  {
    ...RemoteDevice.properties,
    interfaces: Type.Array(
      Type.Object({ id: Str(100), name: Str(255), type: Str(100), enabled: Type.Boolean(), mgmt_only: Type.Boolean() }, { additionalProperties: false }),
    ),
    ip_addresses: Type.Array(Type.Object({ id: Str(100), address: Str(50) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export const RemoteLocations = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        { id: Str(100), name: Str(200), parent_id: Nullable(Str(100)), description: Str(2000), depth: Type.Integer() },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export const RemoteNamedList = Type.Object(
  { items: Type.Array(Type.Object({ id: Str(100), name: Str(200), network_driver: Type.Optional(Str(100)) }, { additionalProperties: false })) },
  { additionalProperties: false },
);
export const CheckIpQuery = Type.Object(
  {
    address: Type.String({
      minLength: 2,
      maxLength: 50,
      pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$',
      description: 'IPv4 or IPv6 address, prefix length optional',
    }),
  },
  { additionalProperties: false },
);
export const CheckIpResult = Type.Object(
  {
    address: Str(50),
    exists: Type.Boolean(),
    ip_address: Nullable(Type.Object({ id: Str(100), address: Str(50), device: Nullable(Str(200)) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const OnboardBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' }),
    location: ExtId,
    role: ExtId,
    device_type: ExtId,
    status: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        pattern: '^[A-Za-z0-9-]+$',
        description: 'Nautobot: status id (default: the "Active" status); NetBox: status value (default active)',
      }),
    ),
    platform: Type.Optional(ExtId),
    namespace: Type.Optional(Type.String({ format: 'uuid', maxLength: 36, description: 'Nautobot only (default: the "Global" namespace)' })),
    interface: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' }),
        type: Type.Optional(
          Type.Union(['virtual', 'bridge', 'lag', '1000base-t', '10gbase-x-sfpp', '25gbase-x-sfp28', '100gbase-x-qsfp28', 'other'].map((t) => Type.Literal(t))),
        ),
      },
      { additionalProperties: false },
    ),
    ip_address: Type.String({
      minLength: 3,
      maxLength: 50,
      pattern: '^[0-9A-Fa-f:.]+/[0-9]{1,3}$',
      description: 'Management address with prefix length, e.g. 192.0.2.10/24',
    }),
  },
  { additionalProperties: false },
);
export const Onboarded = Type.Object({ device_id: Str(100), interface_id: Str(100), ip_address_id: Str(100), url: Str(2048) }, { additionalProperties: false });

const OwnerValue = Type.Union([Type.Literal('source'), Type.Literal('opsdeck')]);
const ownershipOf = (what: string, fields: readonly string[]) =>
  Type.Optional(
    Type.Object(Object.fromEntries(fields.map((f) => [f, Type.Optional(OwnerValue)])), {
      additionalProperties: false,
      description: `Per ${what} field: \`source\` (default) — the source of truth wins; \`opsdeck\` — the local value is kept and a difference is reported as a conflict`,
    }),
  );
export const SyncParams = Type.Object(
  {
    system: SystemName,
    direction: Type.Optional(
      Type.Union([Type.Literal('import'), Type.Literal('push')], {
        description: '`import` (default): the source of truth into Opsdeck; `push`: Opsdeck devices out (created, or the fields Opsdeck owns patched)',
      }),
    ),
    dry_run: Type.Optional(Type.Boolean({ description: 'Plan only: answer the diff, write nothing (default false)' })),
    device_ids: Type.Optional(Type.Array(Uuid, { maxItems: 1000, description: 'Push only: these local devices (default every device)' })),
    device_type: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Push only: the upstream device type id of devices created there (required to create)' }),
    ),
    delete_missing: Type.Optional(
      Type.Boolean({ description: 'Delete devices, interfaces and IP addresses imported earlier that are gone upstream (default false)' }),
    ),
    ownership: ownershipOf('device', SYNC_FIELDS),
    interface_ownership: ownershipOf('interface', INTERFACE_FIELDS),
    ip_address_ownership: ownershipOf('IP address', IP_FIELDS),
  },
  { additionalProperties: false },
);
export const SyncBody = Type.Omit(SyncParams, ['system'], { additionalProperties: false });
const Counts = Type.Object(
  { create: Type.Integer(), update: Type.Integer(), delete: Type.Integer(), unchanged: Type.Integer() },
  { additionalProperties: false },
);
export const SyncReport = Type.Object(
  {
    system: SystemName,
    direction: Type.Union([Type.Literal('import'), Type.Literal('push')]),
    dry_run: Type.Boolean(),
    counts: Type.Object(
      { locations: Counts, platforms: Counts, roles: Counts, statuses: Counts, devices: Counts, interfaces: Counts, ip_addresses: Counts },
      { additionalProperties: false },
    ),
    changes: Type.Array(
      Type.Object(
        {
          kind: Str(30),
          action: Type.Union([Type.Literal('create'), Type.Literal('update'), Type.Literal('delete')]),
          name: Str(200),
          external_id: Nullable(Str(100)),
          local_id: Nullable(Uuid),
          changes: Type.Array(Type.Object({ field: Str(30), from: Nullable(Str(255)), to: Nullable(Str(255)) }, { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
      { description: 'The first 500 changes' },
    ),
    changes_total: Type.Integer(),
    conflicts: Type.Array(
      Type.Object(
        {
          kind: Str(30),
          name: Str(200),
          external_id: Str(100),
          local_id: Uuid,
          field: Str(30),
          opsdeck: Nullable(Str(255)),
          source: Nullable(Str(255)),
          kept: Type.Literal('opsdeck'),
        },
        { additionalProperties: false },
      ),
      { description: 'The first 500 conflicts: fields Opsdeck owns whose value differs upstream' },
    ),
    conflicts_total: Type.Integer(),
    skipped: Type.Optional(
      Type.Array(Type.Object({ name: Str(200), local_id: Uuid, reason: Str(500) }, { additionalProperties: false }), {
        description: 'Push only: the first 500 devices or fields not written upstream, and why',
      }),
    ),
  },
  { additionalProperties: false },
);
export const SyncAccepted = Type.Object({ run_id: Uuid }, { additionalProperties: false });
