import { Type, type Static } from 'typebox';
import { Brief, CustomFieldValues, Description, Nullable, Stamps, Uuid, bodySchemas } from './inventory.schemas.js';

export const IP_STATUSES = ['active', 'reserved', 'deprecated', 'dhcp', 'slaac'] as const;
const IpStatus = Type.Union(IP_STATUSES.map((s) => Type.Literal(s)));
const Namespace = Type.String({ minLength: 1, maxLength: 100, description: 'namespace or VRF; addresses are unique within one (default Global)' });

export const IpAddress = Type.Object(
  {
    id: Uuid,
    address: Type.String({ maxLength: 43, description: 'host/prefix, normalised' }),
    host: Type.String({ maxLength: 39 }),
    prefix_length: Type.Integer({ minimum: 0, maximum: 128 }),
    family: Type.Union([Type.Literal(4), Type.Literal(6)]),
    namespace: Type.String({ maxLength: 100 }),
    interface: Nullable(Type.Object({ id: Uuid, name: Type.String({ maxLength: 100 }), device: Brief }, { additionalProperties: false })),
    status: IpStatus,
    dns_name: Type.String({ maxLength: 255 }),
    description: Description,
    custom_fields: CustomFieldValues,
    ...Stamps,
  },
  { additionalProperties: false },
);
export type IpAddress = Static<typeof IpAddress>;

export const IpAddressBodies = bodySchemas(
  { address: Type.String({ minLength: 1, maxLength: 43, description: 'e.g. 10.0.0.1/24 or 2001:db8::1/64' }) },
  {
    namespace: Namespace,
    interface: Nullable(Uuid),
    status: IpStatus,
    dns_name: Type.String({ maxLength: 255, pattern: '^[A-Za-z0-9_.-]*$' }),
    description: Description,
    custom_fields: CustomFieldValues,
  },
);

export const IpCheckBody = Type.Object(
  { address: Type.String({ minLength: 1, maxLength: 43 }), namespace: Type.Optional(Namespace) },
  { additionalProperties: false },
);
export const IpCheckResult = Type.Object(
  {
    address: Type.String({ maxLength: 39, description: 'the normalised host address checked' }),
    in_use: Type.Boolean(),
    used_by: Type.Array(
      Type.Object(
        {
          kind: Type.Union([Type.Literal('ip_address'), Type.Literal('primary_ip')]),
          ip_address_id: Nullable(Uuid),
          address: Nullable(Type.String({ maxLength: 43 })),
          namespace: Nullable(Type.String({ maxLength: 100 })),
          device: Nullable(Brief),
          interface: Nullable(Brief),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type IpCheckResult = Static<typeof IpCheckResult>;
