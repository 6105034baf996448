/**
 * Configuration history at fleet scale: a generated repository of 200 devices × 50 versions
 * (10,000 commits, one device file changed per commit), synced and indexed by a real Opsdeck
 * server. In the same run it times
 *  - a device's version list through the API (the index) against `git log --follow` on the
 *    command line (what Oxidized-style tools run per request), and
 *  - a device diff (latest against the one before) through the API against `git diff`.
 * Medians over repeated calls; the ratio is the figure (absolute times here are noise).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ratio, startServer } from './lib.js';

const DEVICES = 200;
const VERSIONS = 50;
const REPEAT = 30;
const PASSWORD = 'Bench-Configs-Pa55-word-91';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-configs-'));
const bare = path.join(dir, 'fleet.git');
const device = (i: number) => `edge-${String(i).padStart(3, '0')}`;
const configText = (i: number, v: number) =>
  [
    `hostname ${device(i)}`,
    ...Array.from({ length: 120 }, (_, k) => `interface Gi0/${k}\n description port ${k} rev ${k % 7 === v % 7 ? v : 0}\n!`),
    `ntp server 192.0.2.${v % 250}`,
    '',
  ].join('\n');

/** 5,000 device configurations in one commit: the search corpus. */
async function generateFleet(target: string, count: number): Promise<void> {
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', target]);
  const child = spawn('git', ['--git-dir', target, 'fast-import', '--quiet'], { stdio: ['pipe', 'inherit', 'inherit'] });
  child.stdin.write(`commit refs/heads/main\ncommitter Oxi Backup <backup@example.test> ${Date.UTC(2026, 1, 1) / 1000} +0000\ndata 5\nfleet\n`);
  for (let i = 0; i < count; i++) {
    const data = Buffer.from(configText(i, i).replace(/^hostname .*/, `hostname site-${i}`) + (i % 97 === 0 ? 'snmp-server community public RO\n' : ''));
    child.stdin.write(`M 100644 inline fleet/site-${String(i).padStart(4, '0')}.cfg\ndata ${data.length}\n`);
    child.stdin.write(data);
    child.stdin.write('\n');
  }
  child.stdin.end();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`git fast-import exited with ${code}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function generate(): Promise<void> {
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  const child = spawn('git', ['--git-dir', bare, 'fast-import', '--quiet'], { stdio: ['pipe', 'inherit', 'inherit'] });
  let mark = 0;
  const t0 = Date.UTC(2026, 0, 1) / 1000;
  let n = 0;
  const write = (s: string | Buffer) => child.stdin.write(s);
  for (let v = 0; v < VERSIONS; v++) {
    for (let i = 0; i < DEVICES; i++) {
      const data = Buffer.from(configText(i, v));
      const msg = `backup ${device(i)} v${v}`;
      write(
        `commit refs/heads/main\nmark :${++mark}\ncommitter Oxi Backup <backup@example.test> ${t0 + n * 60} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n`,
      );
      if (mark > 1) write(`from :${mark - 1}\n`);
      write(`M 100644 inline configs/${device(i)}.cfg\ndata ${data.length}\n`);
      write(data);
      write('\n');
      n++;
    }
  }
  child.stdin.end();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`git fast-import exited with ${code}`);
}

async function median(fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const g0 = performance.now();
  await generate();
  execFileSync('git', ['--git-dir', bare, 'fsck', '--connectivity-only', '--no-progress']);
  const commits = Number(execFileSync('git', ['--git-dir', bare, 'rev-list', '--count', 'main'], { encoding: 'utf8' }).trim());
  process.stdout.write(`generated ${commits} commits (${DEVICES} devices × ${VERSIONS} versions) in ${((performance.now() - g0) / 1000).toFixed(1)} s\n`);

  const server = await startServer({ OPSDECK_GIT_SCHEMES: 'file', OPSDECK_ADMIN_PASSWORD: PASSWORD, OPSDECK_RATE_LIMIT_PER_MINUTE: '10000000' });
  try {
    const call = async (method: string, url: string, body?: unknown, token?: string) => {
      const res = await fetch(`${server.url}/api/v1${url}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${text}`);
      return text ? (JSON.parse(text) as Record<string, any>) : {};
    };
    const token = (await call('POST', '/auth/login', { username: 'admin', password: PASSWORD })).access_token as string;
    const target = device(42);
    const deviceId = (await call('POST', '/devices', { name: target }, token)).id as string;
    const repo = await call('POST', '/git/repositories', { name: 'fleet', category: 'configs', url: `file://${bare}` }, token);
    const s0 = performance.now();
    const { run_id } = await call('POST', `/git/repositories/${repo.id}/sync`, undefined, token);
    for (;;) {
      const run = await call('GET', `/jobs/runs/${run_id}`, undefined, token);
      if (!['queued', 'running'].includes(run.status)) {
        if (run.status !== 'succeeded') throw new Error(`sync ${run.status}: ${run.reason}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    process.stdout.write(`sync + index of ${commits} commits: ${((performance.now() - s0) / 1000).toFixed(1)} s\n`);

    const file = `configs/${target}.cfg`;
    const apiList = await median(() => call('GET', `/devices/${deviceId}/configs?limit=${VERSIONS}`, undefined, token));
    const listed = await call('GET', `/devices/${deviceId}/configs?limit=${VERSIONS}`, undefined, token);
    if (listed.items.length !== VERSIONS) throw new Error(`expected ${VERSIONS} versions, got ${listed.items.length}`);
    const cliList = await median(() => execFileSync('git', ['--git-dir', bare, 'log', '--follow', '--format=%H %an %aI %s', '--', file], { encoding: 'utf8' }));
    const [latest, previous] = [listed.items[0].commit as string, listed.items[1].commit as string];
    const apiDiff = await median(() => call('GET', `/devices/${deviceId}/configs/diff`, undefined, token));
    const cliDiff = await median(() => execFileSync('git', ['--git-dir', bare, 'diff', previous, latest, '--', file], { encoding: 'utf8' }));

    process.stdout.write(`\nversion list of one device (${VERSIONS} versions), median of ${REPEAT}:\n`);
    process.stdout.write(
      `  API (history index)        ${apiList.toFixed(2)} ms\n  git log --follow (CLI)     ${cliList.toFixed(2)} ms\n  ratio                      ${ratio(cliList, apiList)} faster through the API\n`,
    );
    process.stdout.write(`device diff (latest vs previous), median of ${REPEAT}:\n`);
    process.stdout.write(
      `  API                        ${apiDiff.toFixed(2)} ms\n  git diff (CLI)             ${cliDiff.toFixed(2)} ms\n  ratio                      ${ratio(cliDiff, apiDiff)}\n`,
    );

    const fleet = path.join(dir, 'search.git');
    await generateFleet(fleet, 5000);
    const searchRepo = await call('POST', '/git/repositories', { name: 'search-fleet', category: 'configs', url: `file://${fleet}` }, token);
    const sync2 = await call('POST', `/git/repositories/${searchRepo.id}/sync`, undefined, token);
    for (;;) {
      const run = await call('GET', `/jobs/runs/${sync2.run_id}`, undefined, token);
      if (!['queued', 'running'].includes(run.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const queries = ['community public', 'ntp server 192.0.2.7', 'description port 3 rev 9'];
    const first = await call('GET', `/configs/search?q=${encodeURIComponent(queries[0]!)}`, undefined, token);
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const q =
        i % 4 === 3
          ? `/configs/search?regex=true&q=${encodeURIComponent('^snmp-server community \\S+ RO$')}`
          : `/configs/search?q=${encodeURIComponent(queries[i % 3]!)}`;
      const t = performance.now();
      await call('GET', q, undefined, token);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    process.stdout.write(
      `search over the latest configuration of ${first.searched} devices (${first.matched_devices} match '${queries[0]}'), 100 queries (1 in 4 a regex):\n`,
    );
    process.stdout.write(`  p50 ${percentile(times, 50).toFixed(1)} ms   p99 ${percentile(times, 99).toFixed(1)} ms\n`);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(server.dataDir, { recursive: true, force: true });
  }
}

await main();
