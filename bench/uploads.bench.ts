/**
 * Upload throughput through the API (tus: one POST, then the file streamed in PATCH requests of
 * BENCH_UPLOAD_CHUNK_MB, SHA-256 computed on the way, content sniffed at the end) against `cp` of
 * the same file on the same disk, and the server's resident memory while it runs (it must stay
 * flat: the body is streamed to disk, never buffered).
 *
 *   npx tsx bench/uploads.bench.ts            # 2 GiB (BENCH_UPLOAD_MB=2048)
 *   BENCH_UPLOAD_MB=256 npx tsx bench/uploads.bench.ts
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ratio, startServer } from './lib.js';

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.BENCH_UPLOAD_MB ?? 2048);
const CHUNK_MB = Number(process.env.BENCH_UPLOAD_CHUNK_MB ?? 512);
const PASSWORD = 'Bench-uploads-password-7431';

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-upload-bench-'));
  const source = path.join(work, 'disk.img');
  // Incompressible content, written in 8 MiB blocks.
  const block = Buffer.alloc(8 * MB);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
  const fd = fs.openSync(source, 'w');
  for (let i = 0; i < SIZE_MB / 8; i++) {
    block.writeUInt32LE(i, 0);
    fs.writeSync(fd, block);
  }
  fs.closeSync(fd);
  const size = SIZE_MB * MB;

  const server = await startServer({ OPSDECK_ADMIN_PASSWORD: PASSWORD, OPSDECK_DATA_DIR: path.join(work, 'data') });
  try {
    const api = `${server.url}/api/v1`;
    const json = async (method: string, url: string, token: string | null, body?: unknown) => {
      const res = await fetch(`${api}${url}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return (await res.json()) as Record<string, unknown>;
    };
    const token = (await json('POST', '/auth/login', null, { username: 'admin', password: PASSWORD })).access_token as string;
    const current = await json('GET', '/settings/files', token);
    await json('PATCH', '/settings/files', token, { max_upload_mb: Math.max(SIZE_MB, 50), version: current.version });

    const copyStart = process.hrtime.bigint();
    const cp = spawnSync('cp', [source, path.join(work, 'copy.img')]);
    const cpSeconds = Number(process.hrtime.bigint() - copyStart) / 1e9;
    if (cp.status !== 0) throw new Error(`cp failed: ${cp.stderr.toString()}`);
    fs.rmSync(path.join(work, 'copy.img'));

    const pid = server.child.pid!;
    const rssBefore = rssMb(pid);
    let rssMax = rssBefore;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(pid))), 100);
    const started = process.hrtime.bigint();
    const created = await fetch(`${api}/uploads`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'tus-resumable': '1.0.0',
        'upload-length': String(size),
        'upload-metadata': `filename ${Buffer.from('disk.img').toString('base64')}`,
      },
    });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
    const location = `${server.url}${created.headers.get('location')}`;
    let fileId = '';
    for (let offset = 0; offset < size; offset += CHUNK_MB * MB) {
      const end = Math.min(size, offset + CHUNK_MB * MB);
      fileId = await new Promise<string>((resolve, reject) => {
        const req = http.request(location, {
          method: 'PATCH',
          headers: {
            authorization: `Bearer ${token}`,
            'tus-resumable': '1.0.0',
            'upload-offset': String(offset),
            'content-type': 'application/offset+octet-stream',
            'content-length': String(end - offset),
          },
        });
        req.on('response', (res) => {
          res.resume();
          if (res.statusCode === 204) resolve(String(res.headers['opsdeck-file-id'] ?? ''));
          else reject(new Error(`PATCH at ${offset}: ${res.statusCode}`));
        });
        req.on('error', reject);
        fs.createReadStream(source, { start: offset, end: end - 1, highWaterMark: MB }).pipe(req);
      });
    }
    const apiSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    const rssAfter = rssMb(pid);
    const file = await json('GET', `/files/${fileId}`, token);
    if (file.size !== size) throw new Error(`stored ${String(file.size)} bytes, not ${size}`);

    const mbps = (s: number) => (SIZE_MB / s).toFixed(0);
    process.stdout.write(`\nuploads: ${SIZE_MB} MiB file, PATCH requests of ${CHUNK_MB} MiB, same disk (${work})\n`);
    process.stdout.write(`  cp                      ${cpSeconds.toFixed(2).padStart(7)} s  ${mbps(cpSeconds).padStart(6)} MiB/s\n`);
    process.stdout.write(`  API (tus, sha256, sniff) ${apiSeconds.toFixed(2).padStart(6)} s  ${mbps(apiSeconds).padStart(6)} MiB/s\n`);
    process.stdout.write(`  API time / cp time: ${ratio(apiSeconds, cpSeconds)}\n`);
    process.stdout.write(
      `  server RSS: before ${rssBefore.toFixed(0)} MiB, peak during ${rssMax.toFixed(0)} MiB (+${(rssMax - rssBefore).toFixed(0)} MiB), after ${rssAfter.toFixed(0)} MiB; file ${SIZE_MB} MiB\n`,
    );
    process.stdout.write(`  stored sha256 ${String(file.sha256)}\n`);
  } finally {
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
