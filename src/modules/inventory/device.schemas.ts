import { Type, type Static } from 'typebox';
import { Brief, BriefColor, CredentialRestricted, CustomFieldValues, Nullable, Ref, Stamps, Uuid, bodySchemas } from './inventory.schemas.js';
import { DEVICE_SOURCES } from './device.repository.js';
import { Interface } from './interface.schemas.js';
import { IpAddress } from './ip-address.schemas.js';

const Hostname = Type.String({
  maxLength: 253,
  pattern: '^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\\.?$',
  description: 'host name or FQDN',
});
const Short = Type.String({ maxLength: 100 });
export const DeviceSource = Type.Union(DEVICE_SOURCES.map((s) => Type.Literal(s)));

export const Device = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 200 }),
    hostname: Nullable(Type.String({ maxLength: 253 })),
    primary_ip4: Nullable(Type.String({ maxLength: 15 })),
    primary_ip6: Nullable(Type.String({ maxLength: 39 })),
    platform: Nullable(Type.Object({ id: Uuid, name: Short, network_driver: Short }, { additionalProperties: false })),
    role: Nullable(Brief),
    location: Nullable(Brief),
    status: BriefColor,
    device_type: Nullable(Type.Object({ id: Uuid, model: Short, manufacturer: Nullable(Brief) }, { additionalProperties: false })),
    serial: Nullable(Short),
    asset_tag: Nullable(Short),
    os_version: Nullable(Short),
    credential_id: Nullable(Uuid),
    credential_profile_id: Nullable(Uuid),
    credential_restricted: CredentialRestricted,
    comments: Type.String({ maxLength: 10000 }),
    tags: Type.Array(Short),
    custom_fields: CustomFieldValues,
    source: DeviceSource,
    external_id: Nullable(Type.String({ maxLength: 200 })),
    ...Stamps,
    interfaces: Type.Optional(Type.Array(Interface, { description: 'with include=interfaces' })),
    ip_addresses: Type.Optional(Type.Array(IpAddress, { description: 'with include=ip_addresses' })),
  },
  { additionalProperties: false },
);
export type Device = Static<typeof Device>;

export const DeviceBodies = bodySchemas(
  { name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }) },
  {
    hostname: Nullable(Hostname),
    primary_ip4: Nullable(Type.String({ maxLength: 18, description: 'IPv4 address; a prefix length is accepted and dropped' })),
    primary_ip6: Nullable(Type.String({ maxLength: 43, description: 'IPv6 address; a prefix length is accepted and dropped' })),
    platform: Nullable(Ref),
    role: Nullable(Ref),
    location: Nullable(Ref),
    status: Ref,
    device_type: Nullable(Ref),
    serial: Nullable(Short),
    asset_tag: Nullable(Short),
    os_version: Nullable(Short),
    credential_id: Nullable(Uuid),
    credential_profile_id: Nullable(
      Type.String({ format: 'uuid', maxLength: 36, description: 'A credential profile tried (in order) when a job run gives no credential' }),
    ),
    comments: Type.String({ maxLength: 10000 }),
    tags: Type.Array(Ref, { maxItems: 50 }),
    custom_fields: CustomFieldValues,
    source: DeviceSource,
    external_id: Nullable(Type.String({ maxLength: 200 })),
  },
);

/** Device-only list filters: tags (OR), group membership and `cf_<name>` custom-field equality. */
export const DeviceExtraQuery = {
  tag: Type.Optional(Type.Array(Short, { maxItems: 100, description: 'has any of these tags' })),
  tag__n: Type.Optional(Type.Array(Short, { maxItems: 100, description: 'has none of these tags' })),
  group_id: Type.Optional(Type.Array(Uuid, { maxItems: 100, description: 'member of a static device group' })),
};
export const DEVICE_INCLUDES = ['interfaces', 'ip_addresses'] as const;
