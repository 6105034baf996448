import type { NativeParser } from '../parser-registry.js';
import { cienaSaosLldpParser } from './ciena-saos-lldp.parser.js';
import { cienaSaosPortParser } from './ciena-saos-port.parser.js';
import { cienaSaosXcvrParser } from './ciena-saos-xcvr.parser.js';

/** Every native parser Opsdeck ships, in lookup order. */
export const vendorParsers: readonly NativeParser[] = [cienaSaosXcvrParser, cienaSaosPortParser, cienaSaosLldpParser];
