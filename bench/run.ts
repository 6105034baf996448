/** `npm run bench [name…]`: runs bench/<name>.bench.ts files in turn (all when none named). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.js';

const wanted = process.argv.slice(2);
const files = fs
  .readdirSync(path.join(ROOT, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort();
let failed = 0;
for (const file of files) {
  process.stdout.write(`\n=== ${file}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', file)], { stdio: 'inherit', cwd: ROOT });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
