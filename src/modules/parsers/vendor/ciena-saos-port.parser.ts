import { Type } from 'typebox';
import type { NativeParser } from '../parser-registry.js';
import { cells } from './pipe-table.fns.js';

/**
 * Ciena SAOS 6 `port show`: the port table (operational status and admin config). The global
 * configuration block above it is skipped. Columns are taken by position after checking the
 * header, because the table repeats `Link`, `Mode` and `Auto Neg` for oper and admin.
 */
const StrOrNull = Type.Union([Type.String(), Type.Null()]);
const Duplex = Type.Union([Type.Literal('full'), Type.Literal('half'), Type.Null()]);

export const portRecordSchema = Type.Object(
  {
    port: Type.String(),
    port_type: Type.String(),
    link_state: Type.Union([Type.Literal('up'), Type.Literal('down')]),
    link_state_duration: StrOrNull,
    link_state_duration_s: Type.Union([Type.Integer(), Type.Null()]),
    xcvr_state: StrOrNull,
    stp_state: StrOrNull,
    speed_mbps: Type.Union([Type.Integer(), Type.Null()]),
    duplex: Duplex,
    auto_negotiation: Type.Union([Type.Boolean(), Type.Null()]),
    admin_state: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
    admin_speed: Type.Union([Type.Integer(), Type.Literal('auto'), Type.Null()]),
    admin_duplex: Duplex,
    admin_auto_negotiation: Type.Union([Type.Boolean(), Type.Null()]),
  },
  { additionalProperties: false },
);

export interface PortRecord {
  port: string;
  port_type: string;
  link_state: 'up' | 'down';
  link_state_duration: string | null;
  link_state_duration_s: number | null;
  xcvr_state: string | null;
  stp_state: string | null;
  speed_mbps: number | null;
  duplex: 'full' | 'half' | null;
  auto_negotiation: boolean | null;
  admin_state: 'enabled' | 'disabled';
  admin_speed: number | 'auto' | null;
  admin_duplex: 'full' | 'half' | null;
  admin_auto_negotiation: boolean | null;
}

const DURATION = /^(\d+)d\s*(\d+)h\s*(\d+)m\s*(\d+)s$/;
const MODE = /^(Auto|\d+G?)\/(FD|HD)$/i;

function speed(text: string): number | 'auto' | null {
  if (/^auto$/i.test(text)) return 'auto';
  const m = /^(\d+)(G?)$/i.exec(text);
  return m ? Number(m[1]) * (m[2] ? 1000 : 1) : null;
}

function mode(text: string): { speed: number | 'auto' | null; duplex: 'full' | 'half' | null } {
  const m = MODE.exec(text);
  if (!m) return { speed: null, duplex: null };
  return { speed: speed(m[1] ?? ''), duplex: m[2]?.toUpperCase() === 'FD' ? 'full' : 'half' };
}

const onOff = (text: string): boolean | null => (text === 'On' ? true : text === 'Off' ? false : null);

export function parsePortShow(text: string): PortRecord[] {
  const records: PortRecord[] = [];
  let inTable = false;
  for (const line of text.split(/\r?\n/)) {
    const row = cells(line);
    if (row === null) continue;
    if (row.length === 11 && row[0] === 'Name' && row[2] === 'Link') {
      inTable = true;
      continue;
    }
    if (!inTable || row.length !== 11 || !row[0]) continue;
    const [port = '', type = '', link = '', duration = '', xcvr = '', stp = '', operMode = '', operNeg = '', adminLink = '', adminMode = '', adminNeg = ''] =
      row;
    const d = DURATION.exec(duration);
    const oper = mode(operMode);
    const admin = mode(adminMode);
    records.push({
      port,
      port_type: type,
      link_state: link.toLowerCase() === 'up' ? 'up' : 'down',
      link_state_duration: duration || null,
      link_state_duration_s: d ? Number(d[1]) * 86400 + Number(d[2]) * 3600 + Number(d[3]) * 60 + Number(d[4]) : null,
      xcvr_state: xcvr || null,
      stp_state: stp || null,
      speed_mbps: typeof oper.speed === 'number' ? oper.speed : null,
      duplex: oper.duplex,
      auto_negotiation: onOff(operNeg),
      admin_state: adminLink === 'Ena' ? 'enabled' : 'disabled',
      admin_speed: admin.speed,
      admin_duplex: admin.duplex,
      admin_auto_negotiation: onOff(adminNeg),
    });
  }
  return records;
}

export const cienaSaosPortParser: NativeParser = {
  id: 'ciena_saos.port_show',
  description: 'Ciena SAOS port table: link state and duration, speed/duplex, auto-negotiation, admin config',
  commands: [{ platform: 'ciena_saos', command: 'po[[rt]] sh[[ow]]\\s*$' }],
  schema: Type.Array(portRecordSchema),
  parse: (text) => parsePortShow(text) as unknown as Record<string, unknown>[],
};
