import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useListeningTestServer } from '../../../test/helpers/listening.js';
import { progressValues } from './qemu.js';

/** Real disk images made by `qemu-img create` (qemu-utils, test/peers/packages.ts). */
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-images-'));
const qemuImg = (...args: string[]) => execFileSync('qemu-img', args, { stdio: 'pipe' });

describe('qemu-img convert -p progress', () => {
  it('reads the percentages of carriage-return separated progress output', () => {
    expect(progressValues('    (0.00/100%)\r    (42.50/100%)\r    (100.00/100%)\r\n')).toEqual([0, 42.5, 100]);
  });
});

describe.each(DIALECTS)('/api/v1/images on %s', (dialect) => {
  const { server, base: baseUrl } = useListeningTestServer(dialect);
  const api = async (method: string, url: string, token: string, payload?: unknown) =>
    server().app.inject({ method: method as 'GET', url, headers: bearer(token), ...(payload !== undefined ? { payload: payload as object } : {}) });

  async function upload(token: string, file: string, name = path.basename(file)): Promise<{ id: string; sha256: string; content_type: string }> {
    const form = new FormData();
    form.append('file', new Blob([fs.readFileSync(file)]), name);
    const res = await fetch(`${baseUrl()}/api/v1/files`, { method: 'POST', headers: bearer(token), body: form });
    expect(res.status, await res.clone().text()).toBe(201);
    return res.json() as Promise<{ id: string; sha256: string; content_type: string }>;
  }

  it('registers a qcow2 made by qemu-img with its format and virtual size, and refuses an overlay naming a backing file', async () => {
    const { token } = await loginAs(server(), 'operator');
    const disk = path.join(work, `${dialect}-base.qcow2`);
    qemuImg('create', '-q', '-f', 'qcow2', disk, '64M');
    const file = await upload(token, disk);
    expect(file.content_type).toBe('application/x-qemu-disk');
    const image = await api('POST', '/api/v1/images', token, { kind: 'disk', file_id: file.id });
    expect(image.statusCode, image.body).toBe(201);
    expect(image.json()).toMatchObject({ kind: 'disk', format: 'qcow2', virtual_size: 64 * 1024 * 1024, backing_file: null });
    expect((await api('POST', '/api/v1/images', token, { kind: 'disk', file_id: file.id })).statusCode).toBe(409);

    // An overlay pointing at a host file: registering it would let qemu read /etc/passwd later.
    const overlay = path.join(work, `${dialect}-overlay.qcow2`);
    qemuImg('create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', '/etc/passwd', overlay, '1M');
    const tricky = await upload(token, overlay);
    const refused = await api('POST', '/api/v1/images', token, { kind: 'disk', file_id: tricky.id });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'IMAGE_BACKING_FILE_REFUSED', errors: [{ path: 'body.file_id' }] });

    // Text is no disk image (qemu-img would call anything raw): refused by its content type.
    const notes = path.join(work, `${dialect}-notes.txt`);
    fs.writeFileSync(notes, 'hello\n');
    const text = await upload(token, notes);
    expect((await api('POST', '/api/v1/images', token, { kind: 'disk', file_id: text.id })).json()).toMatchObject({ code: 'IMAGE_NOT_DISK' });
    // A raw image (no signature: application/octet-stream) is inspected as raw.
    const raw = path.join(work, `${dialect}-disk.raw`);
    qemuImg('create', '-q', '-f', 'raw', raw, '1M');
    const rawFile = await upload(token, raw);
    expect((await api('POST', '/api/v1/images', token, { kind: 'disk', file_id: rawFile.id })).json()).toMatchObject({
      format: 'raw',
      virtual_size: 1024 * 1024,
    });
  });

  it('converts a qcow2 image to raw as a qemu_convert job run with progress in its log; the result is a new file and image', async () => {
    const { token } = await loginAs(server(), 'operator');
    const disk = path.join(work, `${dialect}-convert.qcow2`);
    qemuImg('create', '-q', '-f', 'qcow2', disk, '8M');
    const file = await upload(token, disk);
    const image = (await api('POST', '/api/v1/images', token, { kind: 'disk', file_id: file.id })).json();
    expect((await api('POST', `/api/v1/images/${image.id}/conversions`, token, { format: 'qcow2' })).statusCode).toBe(422);
    const started = await api('POST', `/api/v1/images/${image.id}/conversions`, token, { format: 'raw' });
    expect(started.statusCode, started.body).toBe(202);
    const runId = started.json().run_id as string;
    let run: { status: string; result?: unknown } = { status: 'queued' };
    for (let i = 0; i < 200 && !['succeeded', 'failed', 'cancelled'].includes(run.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = (await api('GET', `/api/v1/jobs/runs/${runId}`, token)).json();
    }
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    const logs = (await api('GET', `/api/v1/jobs/runs/${runId}/logs`, token)).json();
    const lines = JSON.stringify(logs);
    expect(lines).toContain('progress 100%');
    const images = (await api('GET', '/api/v1/images?kind=disk', token)).json().items as { format: string; file_id: string; virtual_size: number }[];
    const raw = images.find((i) => i.format === 'raw' && i.virtual_size === 8 * 1024 * 1024);
    expect(raw).toBeDefined();
    const out = (await api('GET', `/api/v1/files/${raw!.file_id}`, token)).json();
    expect(out).toMatchObject({ name: `${dialect}-convert.img`, size: 8 * 1024 * 1024 });
    const content = await api('GET', `/api/v1/files/${raw!.file_id}/content`, token);
    expect(createHash('sha256').update(content.rawPayload).digest('hex')).toBe(out.sha256);
  });

  it("registers firmware with vendor, model and version, refusing one whose SHA-256 differs from the vendor's", async () => {
    const admin = await adminToken(server());
    const fw = path.join(work, `${dialect}-ios.bin`);
    fs.writeFileSync(fw, Buffer.concat([Buffer.from([0xca, 0xfe, 0x00, 0x01]), Buffer.alloc(4096, 0x5a)]));
    const file = await upload(admin, fw);
    const wrong = await api('POST', '/api/v1/images', admin, {
      kind: 'firmware',
      file_id: file.id,
      vendor: 'cisco',
      model: 'c9300',
      version: '17.9.4',
      vendor_sha256: '0'.repeat(64),
    });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json()).toMatchObject({ code: 'IMAGE_CHECKSUM_MISMATCH', errors: [{ path: 'body.vendor_sha256' }] });
    const ok = await api('POST', '/api/v1/images', admin, {
      kind: 'firmware',
      file_id: file.id,
      vendor: 'cisco',
      model: 'c9300',
      version: '17.9.4',
      vendor_sha256: file.sha256.toUpperCase(),
    });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ kind: 'firmware', vendor: 'cisco', model: 'c9300', version: '17.9.4', vendor_sha256: file.sha256, format: null });
    const viewer = await loginAs(server(), 'viewer');
    expect((await api('POST', '/api/v1/images', viewer.token, { kind: 'disk', file_id: file.id })).statusCode).toBe(403);
  });
});
