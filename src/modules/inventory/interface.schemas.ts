import { Type, type Static } from 'typebox';
import { Brief, CustomFieldValues, Description, Nullable, Ref, Stamps, Uuid, bodySchemas } from './inventory.schemas.js';
import { IpAddress } from './ip-address.schemas.js';

const InterfaceType = Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-z0-9_.-]+$', description: 'ethernet, lag, virtual, loopback, 1000base-t …' });

export const Interface = Type.Object(
  {
    id: Uuid,
    device: Brief,
    name: Type.String({ maxLength: 100 }),
    type: Type.String({ maxLength: 50 }),
    enabled: Type.Boolean(),
    mac_address: Nullable(Type.String({ maxLength: 17 })),
    mtu: Nullable(Type.Integer()),
    speed: Nullable(Type.Integer({ description: 'kbit/s' })),
    description: Description,
    parent: Nullable(Brief),
    lag: Nullable(Brief),
    custom_fields: CustomFieldValues,
    ...Stamps,
    ip_addresses: Type.Optional(Type.Array(IpAddress, { description: 'with include=ip_addresses' })),
  },
  { additionalProperties: false },
);
export type Interface = Static<typeof Interface>;

export const InterfaceBodies = bodySchemas(
  { device: Ref, name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) },
  {
    type: InterfaceType,
    enabled: Type.Boolean(),
    mac_address: Nullable(Type.String({ maxLength: 17 })),
    mtu: Nullable(Type.Integer({ minimum: 68, maximum: 65536 })),
    speed: Nullable(Type.Integer({ minimum: 0, maximum: 10_000_000_000, description: 'kbit/s' })),
    description: Description,
    parent: Nullable(Uuid),
    lag: Nullable(Uuid),
    custom_fields: CustomFieldValues,
  },
);
export const INTERFACE_INCLUDES = ['ip_addresses'] as const;
