import { Type } from 'typebox';
import type { NativeParser } from '../parser-registry.js';
import { cells, toNumber } from './pipe-table.fns.js';

/**
 * Ciena SAOS 6 `port xcvr show` (one row per transceiver slot) and
 * `port xcvr show port <p> diagnostics` (digital optical monitoring). Both may be fed in one
 * text; records are merged by port. Power is reported in mW and dBm; when the device prints only
 * one, the other is derived (dBm = 10·log10(mW)).
 */
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NumberOrNull = Type.Union([Type.Number(), Type.Null()]);
const BoolOrNull = Type.Union([Type.Boolean(), Type.Null()]);

export const xcvrRecordSchema = Type.Object(
  {
    port: Type.String(),
    present: Type.Boolean(),
    admin_state: Type.Union([Type.Literal('enabled'), Type.Literal('disabled'), Type.Null()]),
    oper_state: Nullable(Type.String()),
    vendor_name: Nullable(Type.String()),
    part_number: Nullable(Type.String()),
    revision: Nullable(Type.String()),
    ciena_rev: Nullable(Type.String()),
    ether_medium: Nullable(Type.String()),
    connector_type: Nullable(Type.String()),
    diagnostics_supported: BoolOrNull,
    temperature_c: NumberOrNull,
    voltage_v: NumberOrNull,
    tx_bias_ma: NumberOrNull,
    tx_power_mw: NumberOrNull,
    tx_power_dbm: NumberOrNull,
    rx_power_mw: NumberOrNull,
    rx_power_dbm: NumberOrNull,
    rx_los: BoolOrNull,
    tx_fault: BoolOrNull,
  },
  { additionalProperties: false },
);

type XcvrRecord = {
  [K in keyof typeof xcvrRecordSchema.properties]: string | number | boolean | null;
} & { port: string; present: boolean };

const STATE: Record<string, 'enabled' | 'disabled'> = { Ena: 'enabled', Dis: 'disabled' };
const VENDOR_PART = /^(.*?)\s+(\S+)(?:\s+Rev\s*(\S+))?$/;
const DIAG_TITLE = /Diagnostics\s*-\s*Port\s+(\S+)/i;
const round = (n: number, digits: number): number => Number(n.toFixed(digits));

function blank(port: string): XcvrRecord {
  return {
    port,
    present: true,
    admin_state: null,
    oper_state: null,
    vendor_name: null,
    part_number: null,
    revision: null,
    ciena_rev: null,
    ether_medium: null,
    connector_type: null,
    diagnostics_supported: null,
    temperature_c: null,
    voltage_v: null,
    tx_bias_ma: null,
    tx_power_mw: null,
    tx_power_dbm: null,
    rx_power_mw: null,
    rx_power_dbm: null,
    rx_los: null,
    tx_fault: null,
  };
}

function applySummary(rec: XcvrRecord, row: string[]): void {
  const [, admin = '', oper = '', vendor = '', cienaRev = '', medium = '', diag = ''] = row;
  rec.present = admin !== 'Empty';
  rec.admin_state = STATE[admin] ?? null;
  rec.oper_state = oper === '' ? null : (STATE[oper] ?? oper);
  const vp = VENDOR_PART.exec(vendor);
  if (vp) [rec.vendor_name, rec.part_number, rec.revision] = [vp[1] ?? null, vp[2] ?? null, vp[3] ?? null];
  else if (vendor) rec.vendor_name = vendor;
  rec.ciena_rev = cienaRev || null;
  const slash = medium.lastIndexOf('/');
  rec.ether_medium = medium ? (slash > 0 ? medium.slice(0, slash) : medium) : null;
  rec.connector_type = slash > 0 ? medium.slice(slash + 1) : null;
  rec.diagnostics_supported = diag === 'Yes' ? true : diag === 'No' ? false : null;
}

function applyDiagnostic(rec: XcvrRecord, parameter: string, value: string): void {
  const v = toNumber(value);
  const p = parameter.toLowerCase();
  if (p.startsWith('temp')) rec.temperature_c = v;
  else if (p.startsWith('vcc') || p.startsWith('volt')) rec.voltage_v = v;
  else if (p.includes('bias')) rec.tx_bias_ma = v;
  else if (p.startsWith('tx power')) rec[p.includes('dbm') ? 'tx_power_dbm' : 'tx_power_mw'] = v;
  else if (p.startsWith('rx power')) rec[p.includes('dbm') ? 'rx_power_dbm' : 'rx_power_mw'] = v;
  else if (p.startsWith('rx los')) rec.rx_los = /^(set|yes|true|alarm)/i.test(value);
  else if (p.startsWith('tx fault')) rec.tx_fault = /^(set|yes|true|alarm)/i.test(value);
}

function derivePower(rec: XcvrRecord): void {
  for (const dir of ['tx', 'rx'] as const) {
    const mw = rec[`${dir}_power_mw`] as number | null;
    const dbm = rec[`${dir}_power_dbm`] as number | null;
    if (dbm === null && mw !== null && mw > 0) rec[`${dir}_power_dbm`] = round(10 * Math.log10(mw), 2);
    if (mw === null && dbm !== null) rec[`${dir}_power_mw`] = round(10 ** (dbm / 10), 4);
  }
}

export function parseXcvr(text: string): XcvrRecord[] {
  const byPort = new Map<string, XcvrRecord>();
  const get = (port: string): XcvrRecord => byPort.get(port) ?? (byPort.set(port, blank(port)).get(port) as XcvrRecord);
  let diagPort: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const title = DIAG_TITLE.exec(line);
    if (title) {
      diagPort = title[1] ?? null;
      continue;
    }
    const row = cells(line);
    if (row === null) continue;
    if (diagPort !== null) {
      const [parameter = '', value = ''] = row;
      if (parameter && value && parameter !== 'Parameter') applyDiagnostic(get(diagPort), parameter, value);
    } else if (row.length === 7 && /^\d[\d./]*$/.test(row[0] ?? '')) {
      applySummary(get(row[0] as string), row);
    }
  }
  const records = [...byPort.values()];
  records.forEach(derivePower);
  return records;
}

export const cienaSaosXcvrParser: NativeParser = {
  id: 'ciena_saos.port_xcvr_show',
  description: 'Ciena SAOS transceivers: presence, vendor/part, optical power, temperature, bias',
  commands: [{ platform: 'ciena_saos', command: 'po[[rt]] xcvr sh[[ow]](\\s+po[[rt]]\\s+\\S+(\\s+diag[[nostics]])?)?\\s*$' }],
  schema: Type.Array(xcvrRecordSchema),
  parse: parseXcvr,
};
