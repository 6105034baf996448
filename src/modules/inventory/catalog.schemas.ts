import { Type, type Static } from 'typebox';
import { Brief, Color, Description, Name, Nullable, Ref, Stamps, Uuid, bodySchemas } from './inventory.schemas.js';

/** Reference data: manufacturers, platforms, device roles, statuses, tags, device types. */

export const Manufacturer = Type.Object(
  { id: Uuid, name: Type.String({ maxLength: 100 }), description: Description, ...Stamps },
  { additionalProperties: false },
);
export type Manufacturer = Static<typeof Manufacturer>;
export const ManufacturerBodies = bodySchemas({ name: Name }, { description: Description });

export const NetworkDriver = Type.String({
  maxLength: 100,
  pattern: '^[a-z0-9_]*$',
  description: 'Netmiko/TextFSM device type, e.g. cisco_ios, juniper_junos, arista_eos',
});

export const Platform = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 100 }),
    manufacturer: Nullable(Brief),
    network_driver: Type.String({ maxLength: 100 }),
    description: Description,
    ...Stamps,
  },
  { additionalProperties: false },
);
export type Platform = Static<typeof Platform>;
export const PlatformBodies = bodySchemas({ name: Name }, { network_driver: NetworkDriver, manufacturer: Nullable(Ref), description: Description });

/** Roles, statuses and tags share one shape: a name and a colour. */
export const ColoredObject = Type.Object(
  { id: Uuid, name: Type.String({ maxLength: 100 }), color: Type.String({ maxLength: 6 }), description: Description, ...Stamps },
  { additionalProperties: false },
);
export type ColoredObject = Static<typeof ColoredObject>;
export const ColoredBodies = bodySchemas({ name: Name }, { color: Color, description: Description });

export const DeviceType = Type.Object(
  {
    id: Uuid,
    model: Type.String({ maxLength: 100 }),
    manufacturer: Nullable(Brief),
    part_number: Type.String({ maxLength: 100 }),
    u_height: Type.Integer({ minimum: 0, maximum: 100 }),
    description: Description,
    ...Stamps,
  },
  { additionalProperties: false },
);
export type DeviceType = Static<typeof DeviceType>;
export const DeviceTypeBodies = bodySchemas(
  { model: Name },
  { manufacturer: Nullable(Ref), part_number: Type.String({ maxLength: 100 }), u_height: Type.Integer({ minimum: 0, maximum: 100 }), description: Description },
);
