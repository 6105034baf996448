import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { sql } from 'kysely';
import * as tus from 'tus-js-client';
import { describe, expect, it } from 'vitest';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useListeningTestServer } from '../../../test/helpers/listening.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** Text of `n` bytes that differs per call (so two uploads never share a hash). */
let seq = 0;
const text = (n: number) => {
  seq += 1;
  const line = Buffer.from(`line ${seq} of an uploaded configuration file\n`);
  return Buffer.concat(Array.from({ length: Math.ceil(n / line.length) }, () => line)).subarray(0, n);
};
// The smallest valid PNG: signature + IHDR + IDAT + IEND.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082',
  'hex',
);

interface Done {
  url: string;
  fileId: string | null;
}

describe.each(DIALECTS)('/api/v1/uploads (tus) and /api/v1/files on %s', (dialect) => {
  const { server, base: baseUrl } = useListeningTestServer(dialect);
  const uploadsDir = () => path.join(server().config.dataDir, 'files', 'uploads');
  const api = async (method: string, url: string, token: string, payload?: unknown, headers: Record<string, string> = {}) =>
    server().app.inject({
      method: method as 'GET',
      url,
      headers: { ...bearer(token), ...headers },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  /** Uploads through tus-js-client (the reference tus client) in chunks. */
  function tusUpload(token: string, data: Buffer, metadata: Record<string, string>, options: Partial<tus.UploadOptions> = {}): Promise<Done> {
    return new Promise((resolve, reject) => {
      const upload = new tus.Upload(data, {
        endpoint: `${baseUrl()}/api/v1/uploads`,
        headers: bearer(token),
        metadata,
        chunkSize: 64 * 1024,
        retryDelays: [],
        removeFingerprintOnSuccess: true,
        ...options,
        onError: reject,
        onSuccess: (payload) => resolve({ url: upload.url!, fileId: payload.lastResponse.getHeader('opsdeck-file-id') ?? null }),
      });
      upload.start();
    });
  }

  async function setFilesSettings(values: Record<string, unknown>) {
    const admin = await adminToken(server());
    const current = (await api('GET', '/api/v1/settings/files', admin)).json();
    const res = await api('PATCH', '/api/v1/settings/files', admin, { ...values, version: current.version });
    expect(res.statusCode, res.body).toBe(200);
  }

  it('uploads a file in chunks with tus-js-client; the library has its name, size, SHA-256 and sniffed type', async () => {
    const { token } = await loginAs(server(), 'operator');
    const data = text(300 * 1024);
    const done = await tusUpload(token, data, { filename: 'core-router.cfg', sha256: sha(data), tags: 'core,golden', description: 'golden config' });
    expect(done.fileId).toMatch(/^[0-9a-f-]{36}$/);
    const file = (await api('GET', `/api/v1/files/${done.fileId}`, token)).json();
    expect(file).toMatchObject({
      name: 'core-router.cfg',
      size: data.length,
      sha256: sha(data),
      content_type: 'text/plain',
      tags: ['core', 'golden'],
      description: 'golden config',
    });
    const listed = (await api('GET', '/api/v1/files?tag=golden', token)).json();
    expect(listed.items.map((f: { id: string }) => f.id)).toContain(done.fileId);
    const got = await api('GET', `/api/v1/files/${done.fileId}/content`, token);
    expect(sha(got.rawPayload)).toBe(sha(data));
    expect(fs.readdirSync(uploadsDir()).filter((n) => done.url.endsWith(n))).toEqual([]);
  });

  it('resumes after the connection is cut mid-PATCH: HEAD gives the offset reached and tus-js-client finishes from there', async () => {
    const { token } = await loginAs(server(), 'operator');
    const data = text(2 * 1024 * 1024);
    const created = await fetch(`${baseUrl()}/api/v1/uploads`, {
      method: 'POST',
      headers: {
        ...bearer(token),
        'tus-resumable': '1.0.0',
        'upload-length': String(data.length),
        'upload-metadata': `filename ${b64('big.cfg')},sha256 ${b64(sha(data))}`,
      },
    });
    expect(created.status).toBe(201);
    const url = `${baseUrl()}${created.headers.get('location')}`;
    // Send the first MiB, then destroy the socket before the rest.
    await new Promise<void>((resolve) => {
      const req = http.request(url, {
        method: 'PATCH',
        headers: {
          ...bearer(token),
          'tus-resumable': '1.0.0',
          'upload-offset': '0',
          'content-type': 'application/offset+octet-stream',
          'content-length': String(data.length),
        },
      });
      req.on('error', () => resolve());
      req.write(data.subarray(0, 1024 * 1024), () => setTimeout(() => req.destroy(), 100));
    });
    let offset = 0;
    for (let i = 0; i < 100; i++) {
      const head = await fetch(url, { method: 'HEAD', headers: { ...bearer(token), 'tus-resumable': '1.0.0' } });
      offset = Number(head.headers.get('upload-offset'));
      if (
        offset > 0 &&
        (
          await api('PATCH', new URL(url).pathname, token, Buffer.alloc(0), {
            'tus-resumable': '1.0.0',
            'upload-offset': String(offset),
            'content-type': 'application/offset+octet-stream',
          })
        ).statusCode === 204
      ) {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(data.length);
    let resumedFrom = -1;
    const done = await tusUpload(
      token,
      data,
      { filename: 'big.cfg' },
      {
        uploadUrl: url,
        onUploadUrlAvailable: () => undefined,
        onProgress: (sent) => {
          if (resumedFrom < 0) resumedFrom = sent;
        },
      },
    );
    expect(resumedFrom).toBeGreaterThanOrEqual(offset);
    const file = (await api('GET', `/api/v1/files/${done.fileId}`, token)).json();
    expect(file).toMatchObject({ size: data.length, sha256: sha(data) });
  });

  it('lets exactly the uploads that fit the quota start when they race for it', async () => {
    await setFilesSettings({ quota_mb: 1 });
    try {
      const { token } = await loginAs(server(), 'operator');
      const size = 300 * 1024;
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          fetch(`${baseUrl()}/api/v1/uploads`, {
            method: 'POST',
            headers: { ...bearer(token), 'tus-resumable': '1.0.0', 'upload-length': String(size), 'upload-metadata': `filename ${b64(`race-${i}.txt`)}` },
          }),
        ),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([201, 201, 201, 413, 413, 413]);
      const refused = (await answers.find((a) => a.status === 413)!.json()) as { code: string };
      expect(refused.code).toBe('FILE_QUOTA_EXCEEDED');
      // Terminating one gives its reservation back: one more fits.
      const first = answers.find((a) => a.status === 201)!;
      const del = await fetch(`${baseUrl()}${first.headers.get('location')}`, { method: 'DELETE', headers: { ...bearer(token), 'tus-resumable': '1.0.0' } });
      expect(del.status).toBe(204);
      const again = await fetch(`${baseUrl()}/api/v1/uploads`, {
        method: 'POST',
        headers: { ...bearer(token), 'tus-resumable': '1.0.0', 'upload-length': String(size), 'upload-metadata': `filename ${b64('again.txt')}` },
      });
      expect(again.status).toBe(201);
    } finally {
      await setFilesSettings({ quota_mb: 10_240 });
    }
  });

  it('removes the temporary file of a terminated upload, even one terminated mid-transfer', async () => {
    const { token } = await loginAs(server(), 'operator');
    const data = text(512 * 1024);
    const created = await fetch(`${baseUrl()}/api/v1/uploads`, {
      method: 'POST',
      headers: { ...bearer(token), 'tus-resumable': '1.0.0', 'upload-length': String(data.length), 'upload-metadata': `filename ${b64('aborted.txt')}` },
    });
    const url = `${baseUrl()}${created.headers.get('location')}`;
    const id = url.split('/').pop()!;
    expect(fs.existsSync(path.join(uploadsDir(), id))).toBe(true);
    expect((fs.statSync(path.join(uploadsDir(), id)).mode & 0o777).toString(8)).toBe('600');
    const patch = await fetch(url, {
      method: 'PATCH',
      headers: { ...bearer(token), 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: data.subarray(0, 1000),
    });
    expect(patch.status).toBe(204);
    expect(patch.headers.get('upload-offset')).toBe('1000');
    const del = await fetch(url, { method: 'DELETE', headers: { ...bearer(token), 'tus-resumable': '1.0.0' } });
    expect(del.status).toBe(204);
    expect(fs.existsSync(path.join(uploadsDir(), id))).toBe(false);
    expect((await fetch(url, { method: 'HEAD', headers: { ...bearer(token), 'tus-resumable': '1.0.0' } })).status).toBe(404);
  });

  it('sweeps expired uploads (temporary file, row and quota) and temporary files no upload owns', async () => {
    const { token } = await loginAs(server(), 'operator');
    const created = await fetch(`${baseUrl()}/api/v1/uploads`, {
      method: 'POST',
      headers: { ...bearer(token), 'tus-resumable': '1.0.0', 'upload-length': '1000', 'upload-metadata': `filename ${b64('stale.txt')}` },
    });
    const url = `${baseUrl()}${created.headers.get('location')}`;
    const id = url.split('/').pop()!;
    const orphan = path.join(uploadsDir(), '01a2a000-0000-7000-8000-000000000000');
    fs.writeFileSync(orphan, 'left behind by a crash');
    // Age the upload past its expiry (the clock of the test is not the server's to move).
    await sql`update file_uploads set expires_at = ${new Date(Date.now() - 1000).toISOString()} where id = ${id}`.execute(server().modules.database.db);
    expect(await server().modules.files.uploads.sweep()).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(path.join(uploadsDir(), id))).toBe(false);
    expect(fs.existsSync(orphan)).toBe(false);
    expect((await fetch(url, { method: 'HEAD', headers: { ...bearer(token), 'tus-resumable': '1.0.0' } })).status).toBe(404);
  });

  it('answers a malformed multipart body with 400, not 500', async () => {
    const { token } = await loginAs(server(), 'operator');
    const res = await api('POST', '/api/v1/files', token, '--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nunterminated', {
      'content-type': 'multipart/form-data; boundary=b',
    });
    expect(res.statusCode, res.body).toBe(400);
  });

  it('refuses a completed upload whose SHA-256 differs from the declared one, keeping nothing', async () => {
    const { token } = await loginAs(server(), 'operator');
    const data = text(10_000);
    const before = fs.readdirSync(uploadsDir()).length;
    const err = await tusUpload(token, data, { filename: 'tampered.cfg', sha256: sha(Buffer.from('something else')) }).then(
      () => null,
      (e: tus.DetailedError) => e,
    );
    expect(err?.originalResponse?.getStatus()).toBe(422);
    expect(err?.originalResponse?.getBody()).toContain('FILE_CHECKSUM_MISMATCH');
    const listed = (await api('GET', '/api/v1/files?q=tampered', token)).json();
    expect(listed.items).toEqual([]);
    expect(fs.readdirSync(uploadsDir()).length).toBe(before);
  });

  it('decides the type by the content: a PNG named .txt and an ELF named .bin are refused, a PNG named .png is kept as image/png', async () => {
    const { token } = await loginAs(server(), 'operator');
    const multipart = (name: string, body: Buffer, fields: Record<string, string> = {}) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append('file', new Blob([body]), name);
      return fetch(`${baseUrl()}/api/v1/files`, { method: 'POST', headers: bearer(token), body: form });
    };
    const png = await multipart('diagram.png', PNG, { tags: 'diagrams' });
    expect(png.status).toBe(201);
    expect((await png.json()) as object).toMatchObject({ name: 'diagram.png', content_type: 'image/png', sha256: sha(PNG), tags: ['diagrams'] });
    const disguised = await multipart('notes.txt', PNG);
    expect(disguised.status).toBe(415);
    expect(((await disguised.json()) as { code: string }).code).toBe('FILE_TYPE_REFUSED');
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120)]);
    const binary = await multipart('tool.bin', elf);
    expect(binary.status).toBe(415);
    const badExt = await multipart('script.sh', Buffer.from('echo hi\n'));
    expect(badExt.status).toBe(422);
    expect(JSON.stringify((await badExt.json()) as object)).toContain('body.file.filename');
    // Through tus too: the first bytes decide before the rest arrives.
    const err = await tusUpload(token, PNG, { filename: 'readme.txt' }).then(
      () => null,
      (e: tus.DetailedError) => e,
    );
    expect(err?.originalResponse?.getStatus()).toBe(415);
  });

  it('serves downloads as nosniff attachments with single byte ranges (206) and 416 for unsatisfiable ones', async () => {
    const { token } = await loginAs(server(), 'operator');
    const form = new FormData();
    form.append('file', new Blob(['0123456789']), 'digits ä.txt');
    const created = (await (await fetch(`${baseUrl()}/api/v1/files`, { method: 'POST', headers: bearer(token), body: form })).json()) as { id: string };
    const url = `/api/v1/files/${created.id}/content`;
    const full = await api('GET', url, token);
    expect(full.statusCode).toBe(200);
    expect(full.body).toBe('0123456789');
    expect(full.headers['content-disposition']).toBe(`attachment; filename="digits _.txt"; filename*=UTF-8''digits%20%C3%A4.txt`);
    expect(full.headers['x-content-type-options']).toBe('nosniff');
    expect(full.headers['content-type']).toBe('application/octet-stream');
    expect(full.headers['accept-ranges']).toBe('bytes');
    const part = await api('GET', url, token, undefined, { range: 'bytes=2-5' });
    expect(part.statusCode).toBe(206);
    expect(part.body).toBe('2345');
    expect(part.headers['content-range']).toBe('bytes 2-5/10');
    const suffix = await api('GET', url, token, undefined, { range: 'bytes=-3' });
    expect([suffix.statusCode, suffix.body]).toEqual([206, '789']);
    const beyond = await api('GET', url, token, undefined, { range: 'bytes=10-20' });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe('bytes */10');
    expect(beyond.headers['content-type']).toContain('application/problem+json');
    // Another user (no team in common) sees neither the file nor its content.
    const other = await loginAs(server(), 'operator');
    expect((await api('GET', url, other.token)).statusCode).toBe(404);
    // Deleting gives the bytes back and removes them from the disk.
    expect((await api('DELETE', `/api/v1/files/${created.id}`, token)).statusCode).toBe(204);
    expect(fs.existsSync(path.join(server().config.dataDir, 'files', 'objects', created.id))).toBe(false);
  });

  it('answers tus protocol errors with 4xx: wrong version 412, wrong offset 409, wrong content type 415, bad metadata 422', async () => {
    const admin = await adminToken(server());
    const create = (headers: Record<string, string>) =>
      api('POST', '/api/v1/uploads', admin, undefined, { 'tus-resumable': '1.0.0', 'upload-length': '10', ...headers });
    expect((await create({ 'tus-resumable': '0.2.2', 'upload-metadata': `filename ${b64('a.txt')}` })).statusCode).toBe(412);
    expect((await create({ 'upload-metadata': 'filename !!!' })).statusCode).toBe(422);
    expect((await create({})).json().errors).toEqual([expect.objectContaining({ path: 'headers.upload-metadata.filename' })]);
    const ok = await create({ 'upload-metadata': `filename ${b64('a.txt')}` });
    expect(ok.statusCode).toBe(201);
    const url = ok.headers.location as string;
    const patch = (offset: string, type = 'application/offset+octet-stream') =>
      api('PATCH', url, admin, Buffer.from('abc'), { 'tus-resumable': '1.0.0', 'upload-offset': offset, 'content-type': type });
    expect((await patch('5')).statusCode).toBe(409);
    expect((await patch('0', 'application/octet-stream')).statusCode).toBe(415);
    expect(
      (
        await api('PATCH', url, admin, Buffer.alloc(20, 0x61), {
          'tus-resumable': '1.0.0',
          'upload-offset': '0',
          'content-type': 'application/offset+octet-stream',
        })
      ).statusCode,
    ).toBe(413);
    expect((await patch('0')).statusCode).toBe(204);
  });
});
