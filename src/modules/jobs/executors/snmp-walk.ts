import { Type, type Static } from 'typebox';
import { abortPromise, type Executor } from './executor.js';
import { OidOrName, SnmpCommon, isVarbindError, openSession, resolveOid, toVarbind, unknownNames, type Varbind } from './snmp-session.js';

const Params = Type.Object(
  {
    oid: OidOrName,
    max_repetitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'GETBULK size (20)' })),
    max_rows: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Stop after this many values (10000)' })),
    ...SnmpCommon,
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

/** SNMP walk (GETBULK subtree) of an OID or MIB table such as ifTable. */
export const snmpWalkExecutor: Executor<Params> = {
  type: 'snmp_walk',
  description: 'SNMP walk (v2c or v3) of a subtree: an OID or a MIB name such as ifTable, ifXTable, system.',
  params: Params,
  output: Type.Object({ varbinds: Type.Array(Type.Object({ oid: Type.String(), type: Type.String(), value: Type.Unknown() })), truncated: Type.Boolean() }),
  credential: 'required',
  targets: 'required',
  changesDevices: () => false,
  check: (p) => unknownNames([p.oid], false).map((n) => ({ path: 'body.params.oid', message: `unknown MIB name '${n}'` })),
  async run(ctx, p) {
    const root = resolveOid(p.oid, false)!;
    const max = p.max_rows ?? 10_000;
    const varbinds: Varbind[] = [];
    let truncated = false;
    const session = openSession(ctx.host, p, ctx.credential);
    try {
      await Promise.race([
        session.subtree(root, p.max_repetitions ?? 20, (vbs) => {
          for (const vb of vbs) {
            if (isVarbindError(vb)) continue;
            if (varbinds.length >= max) {
              truncated = true;
              return true;
            }
            varbinds.push(toVarbind(vb));
          }
          return ctx.signal.aborted;
        }),
        abortPromise(ctx.signal),
      ]);
    } finally {
      session.close();
    }
    ctx.log('info', `${varbinds.length} values under ${root}${truncated ? ' (truncated)' : ''}`);
    return { ok: true, output: varbinds.map((v) => `${v.oid} = ${v.type}: ${v.value ?? ''}`).join('\n'), parsed: { varbinds, truncated } };
  },
};
