/**
 * Regenerates the artefacts derived from code: the README's configuration table and
 * docs/openapi.json and docs/asyncapi.json. CI runs the same generation in a test and fails on any difference.
 */
import fs from 'node:fs';
import { configTableMarkdown } from '../src/config.js';
import { generateOpenApi } from '../test/helpers/openapi.js';
import { buildAsyncApi } from '../src/asyncapi.js';

const README = new URL('../README.md', import.meta.url);
const BEGIN = '<!-- config-table:begin -->';
const END = '<!-- config-table:end -->';

const readme = fs.readFileSync(README, 'utf8');
const start = readme.indexOf(BEGIN);
const end = readme.indexOf(END);
if (start < 0 || end < start) throw new Error(`README.md lacks the ${BEGIN} … ${END} markers`);
fs.writeFileSync(README, `${readme.slice(0, start + BEGIN.length)}\n${configTableMarkdown()}\n${readme.slice(end)}`);

const spec = await generateOpenApi();
fs.writeFileSync(new URL('../docs/openapi.json', import.meta.url), `${JSON.stringify(spec, null, 2)}\n`);
fs.writeFileSync(
  new URL('../docs/asyncapi.json', import.meta.url),
  `${JSON.stringify(buildAsyncApi(String((spec.info as { version: string }).version)), null, 2)}\n`,
);
process.stdout.write('README.md configuration table, docs/openapi.json and docs/asyncapi.json regenerated\n');
