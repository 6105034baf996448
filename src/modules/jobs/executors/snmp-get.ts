import { Type, type Static } from 'typebox';
import { abortPromise, type Executor } from './executor.js';
import { OidOrName, SnmpCommon, isVarbindError, openSession, resolveOid, toVarbind, unknownNames } from './snmp-session.js';

const Params = Type.Object({ oids: Type.Array(OidOrName, { minItems: 1, maxItems: 100 }), ...SnmpCommon }, { additionalProperties: false });
type Params = Static<typeof Params>;

/** SNMP GET of OIDs or bundled MIB names (v2c community or v3 user from the credential). */
export const snmpGetExecutor: Executor<Params> = {
  type: 'snmp_get',
  description: 'SNMP GET (v2c or v3) of OIDs or MIB names such as sysDescr, sysName, ifNumber.',
  params: Params,
  output: Type.Object({
    values: Type.Record(Type.String(), Type.Unknown()),
    varbinds: Type.Array(Type.Object({ oid: Type.String(), type: Type.String(), value: Type.Unknown() })),
  }),
  credential: 'required',
  targets: 'required',
  changesDevices: () => false,
  check: (p) => unknownNames(p.oids, true).map((n) => ({ path: 'body.params.oids', message: `unknown MIB name '${n}'` })),
  async run(ctx, p) {
    const oids = p.oids.map((n) => resolveOid(n, true)!);
    const session = openSession(ctx.host, p, ctx.credential);
    try {
      const raw = await Promise.race([session.get(oids), abortPromise(ctx.signal)]);
      const values: Record<string, unknown> = {};
      const varbinds = raw.map((vb, i) => {
        const out = isVarbindError(vb) ? { oid: vb.oid, type: 'error', value: null } : toVarbind(vb);
        values[p.oids[i]!] = out.value;
        return out;
      });
      const lines = varbinds.map((v) => `${v.oid} = ${v.type}: ${v.value ?? ''}`);
      for (const l of lines) ctx.log('info', l);
      return { ok: true, output: lines.join('\n'), parsed: { values, varbinds } };
    } finally {
      session.close();
    }
  },
};
