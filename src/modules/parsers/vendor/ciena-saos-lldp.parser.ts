import { Type } from 'typebox';
import type { NativeParser } from '../parser-registry.js';
import { cells } from './pipe-table.fns.js';

/**
 * Ciena SAOS LLDP neighbours (`lldp remote show`, also printed by `lldp show neighbors`): one
 * record per local port, from the `Local Port | Remote Port | Info` table. The local-system
 * block at the top is skipped. `Mgmt Addr` may continue on lines without a key.
 */
const StrOrNull = Type.Union([Type.String(), Type.Null()]);

export const lldpRecordSchema = Type.Object(
  {
    local_port: Type.String(),
    remote_port: Type.String(),
    chassis_id: StrOrNull,
    management_addresses: Type.Array(Type.String()),
    system_name: StrOrNull,
    system_description: StrOrNull,
    port_description: StrOrNull,
    synce_supported: Type.Union([Type.Boolean(), Type.Null()]),
    synce_configured: Type.Union([Type.Boolean(), Type.Null()]),
  },
  { additionalProperties: false },
);

export interface LldpRecord {
  local_port: string;
  remote_port: string;
  chassis_id: string | null;
  management_addresses: string[];
  system_name: string | null;
  system_description: string | null;
  port_description: string | null;
  synce_supported: boolean | null;
  synce_configured: boolean | null;
}

const KEY_VALUE = /^([A-Za-z][A-Za-z ]*?):\s+(.*)$/;

function apply(rec: LldpRecord, key: string, value: string): void {
  switch (key.toLowerCase()) {
    case 'chassis id':
      rec.chassis_id = value;
      break;
    case 'mgmt addr':
      rec.management_addresses.push(value);
      break;
    case 'system name':
      rec.system_name = value;
      break;
    case 'system desc':
      rec.system_description = value;
      break;
    case 'port desc':
      rec.port_description = value;
      break;
    case 'synce suppt':
      rec.synce_supported = !/^not/i.test(value);
      break;
    case 'synce confg':
      rec.synce_configured = !/^not/i.test(value);
      break;
  }
}

export function parseLldpNeighbors(text: string): LldpRecord[] {
  const records: LldpRecord[] = [];
  let current: LldpRecord | null = null;
  let lastKey = '';
  let inTable = false;
  for (const line of text.split(/\r?\n/)) {
    const row = cells(line);
    if (row === null || row.length !== 3) continue;
    const [local = '', remote = '', info = ''] = row;
    if (info === 'Info' && local === 'Port') {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    if (local) {
      current = {
        local_port: local,
        remote_port: remote,
        chassis_id: null,
        management_addresses: [],
        system_name: null,
        system_description: null,
        port_description: null,
        synce_supported: null,
        synce_configured: null,
      };
      records.push(current);
      lastKey = '';
    }
    if (current === null || !info) continue;
    const kv = KEY_VALUE.exec(info);
    if (kv) {
      lastKey = kv[1] ?? '';
      apply(current, lastKey, (kv[2] ?? '').trim());
    } else if (lastKey.toLowerCase() === 'mgmt addr') {
      current.management_addresses.push(info);
    }
  }
  return records;
}

export const cienaSaosLldpParser: NativeParser = {
  id: 'ciena_saos.lldp_remote_show',
  description: 'Ciena SAOS LLDP neighbours: remote chassis, port, system name/description, management addresses',
  commands: [
    { platform: 'ciena_saos', command: 'lldp rem[[ote]] sh[[ow]]\\s*$' },
    { platform: 'ciena_saos', command: 'lldp sh[[ow]] nei[[ghbors]]\\s*$' },
  ],
  schema: Type.Array(lldpRecordSchema),
  parse: (text) => parseLldpNeighbors(text) as unknown as Record<string, unknown>[],
};
