import { Type, type Static } from 'typebox';
import { NotFoundError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { isUuid } from '../../platform/ids.js';
import type { RowOf } from './crud.repository.js';
import type { InventoryCore } from './inventory.core.js';
import { Brief, Description, Nullable, Stamps, Uuid, bodySchemas } from './inventory.schemas.js';
import { descendantsOf } from './location.fns.js';
import { linkSpec, type GraphDevice } from './topology.repository.js';
import { text, type ResourceDef } from './resource.js';

/** Neighbour links between interfaces (LLDP/CDP or manual cables) and the node/edge graph. */

const LinkKind = Type.Union([Type.Literal('manual'), Type.Literal('lldp'), Type.Literal('cdp')]);
const End = Type.Object({ interface: Brief, device: Brief }, { additionalProperties: false });
export const Link = Type.Object({ id: Uuid, a: End, b: End, kind: LinkKind, description: Description, ...Stamps }, { additionalProperties: false });
export type Link = Static<typeof Link>;
export const LinkBodies = bodySchemas({ a_interface: Uuid, b_interface: Uuid }, { kind: LinkKind, description: Description });
export const LinkExtraQuery = {
  device: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100, description: 'either end on this device' })),
};

export const linkDef: ResourceDef<Link, RowOf<typeof linkSpec>> = {
  kind: 'link',
  plural: 'topology/links',
  title: 'Link',
  permission: 'topology',
  tag: 'topology',
  repo: (r) => r.links,
  schemas: { item: Link, ...LinkBodies },
  filters: linkSpec.filters,
  sortFields: Object.keys(linkSpec.sort),
  unique: [],
  async toDb(ctx, input, existing) {
    const v: Record<string, unknown> = {};
    let a = (input.a_interface as string | undefined)?.toLowerCase() ?? existing?.aInterfaceId;
    let b = (input.b_interface as string | undefined)?.toLowerCase() ?? existing?.bInterfaceId;
    for (const [field, id] of [
      ['a_interface', input.a_interface],
      ['b_interface', input.b_interface],
    ] as const) {
      if (id !== undefined) await ctx.ref('interface', id, field);
    }
    if (a && b && a === b) ctx.error('b_interface', 'a link joins two different interfaces');
    // Stored in id order so a pair is unique whichever end the client names first.
    if (a && b && a > b) [a, b] = [b, a];
    if (a && b && ('a_interface' in input || 'b_interface' in input)) {
      const [x, y] = [a, b];
      await ctx.unique('b_interface', `${x}/${y}`, existing?.id ?? null, () => ctx.repos.topologyQueries.pairExists(x, y));
      Object.assign(v, { aInterfaceId: a, bInterfaceId: b });
    }
    text(v, input, 'kind', 'kind');
    text(v, input, 'description', 'description', '');
    return { values: existing ? v : { kind: 'manual', description: '', ...v } };
  },
  toApi: (r) => ({
    id: r.id,
    a: { interface: { id: r.aInterfaceId, name: r.aInterfaceName }, device: { id: r.aDeviceId, name: r.aDeviceName } },
    b: { interface: { id: r.bInterfaceId, name: r.bInterfaceName }, device: { id: r.bDeviceId, name: r.bDeviceName } },
    kind: r.kind as Link['kind'],
    description: r.description,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
};

const Node = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 200 }),
    primary_ip4: Nullable(Type.String({ maxLength: 15 })),
    platform: Nullable(Type.String({ maxLength: 100 })),
    role: Nullable(Type.String({ maxLength: 100 })),
    status: Type.String({ maxLength: 100 }),
    location_id: Nullable(Uuid),
    external: Type.Boolean({ description: 'a neighbour outside the requested location' }),
  },
  { additionalProperties: false },
);
const Edge = Type.Object(
  { id: Uuid, source: Uuid, target: Uuid, source_interface: Brief, target_interface: Brief, kind: LinkKind },
  { additionalProperties: false },
);
export const TopologyGraph = Type.Object({ nodes: Type.Array(Node), edges: Type.Array(Edge) }, { additionalProperties: false });
export type TopologyGraph = Static<typeof TopologyGraph>;
export const TopologyQuery = Type.Object(
  { location: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'location id or name; its sub-locations are included' })) },
  { additionalProperties: false },
);

export function createTopologyService(core: InventoryCore) {
  const node = (d: GraphDevice, external: boolean) => ({
    id: d.id,
    name: d.name,
    primary_ip4: d.primaryIp4,
    platform: d.platformName,
    role: d.roleName,
    status: d.statusName,
    location_id: d.locationId,
    external,
  });
  return {
    /** Devices of a location subtree (or every linked device) and the links between them. */
    async graph(actor: Actor, query: { location?: string }): Promise<TopologyGraph> {
      requirePermission(actor, 'topology:read');
      const { repos } = core;
      let inScope: GraphDevice[] | null = null;
      if (query.location) {
        const tree = await repos.locationTree.all();
        const root = tree.find((l) => (isUuid(query.location!) && l.id === query.location!.toLowerCase()) || l.name === query.location);
        if (!root) throw new NotFoundError('LOCATION_NOT_FOUND', `Location '${query.location}' does not exist`);
        inScope = await repos.topologyQueries.devicesAt(descendantsOf(tree, root.id));
      }
      const links = await repos.topologyQueries.links(inScope ? inScope.map((d) => d.id) : null);
      const known = new Set((inScope ?? []).map((d) => d.id));
      const others = [...new Set(links.flatMap((l) => [l.aDeviceId, l.bDeviceId]))].filter((id) => !known.has(id));
      const neighbours = await repos.topologyQueries.devicesById(others);
      const nodes = [...(inScope ?? []).map((d) => node(d, false)), ...neighbours.map((d) => node(d, inScope !== null))];
      nodes.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      const edges = links.map((l) => ({
        id: l.id,
        source: l.aDeviceId,
        target: l.bDeviceId,
        source_interface: { id: l.aInterfaceId, name: l.aInterfaceName },
        target_interface: { id: l.bInterfaceId, name: l.bInterfaceName },
        kind: l.kind as Link['kind'],
      }));
      return { nodes, edges };
    },
  };
}
