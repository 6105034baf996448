import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOpsdeck } from './helpers/process.js';

describe('graceful shutdown', () => {
  it('finishes in-flight requests, loses no completed response and exits 0 on SIGTERM under load', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-shutdown-'));
    const node = runOpsdeck(['serve'], { OPSDECK_PORT: '0', OPSDECK_DATA_DIR: dataDir, OPSDECK_ADMIN_PASSWORD: 'correct-horse-battery-staple-9' });
    const line = await node.waitFor(/"msg":"opsdeck listening"/, 60_000);
    const url = (JSON.parse(line) as { url: string }).url;

    const outcomes = { ok: 0, closing: 0, refused: 0, bad: [] as string[] };
    let stop = false;
    const client = async () => {
      // Bounded: at most 2,000 requests per client, and the loop ends once the server is gone.
      for (let i = 0; i < 2000 && !stop; i++) {
        try {
          const res = await fetch(`${url}/health/ready`);
          const text = await res.text();
          if (res.status === 200 && JSON.parse(text).status === 'ready') outcomes.ok++;
          else if (res.status === 503) outcomes.closing++;
          else outcomes.bad.push(`${res.status} ${text}`);
        } catch (err) {
          // A connection refused or closed before a response began is not a lost response.
          const code = (err as { cause?: { code?: string } }).cause?.code ?? '';
          if (['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED'].includes(code)) {
            outcomes.refused++;
            if (code === 'ECONNREFUSED') return;
          } else {
            outcomes.bad.push(`${String(err)} ${code}`);
          }
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await new Promise((r) => setTimeout(r, 700));
    const before = outcomes.ok;
    node.child.kill('SIGTERM');
    const code = await node.exited;
    stop = true;
    await Promise.all(clients);
    fs.rmSync(dataDir, { recursive: true, force: true });

    expect(before).toBeGreaterThan(0);
    expect(outcomes.bad).toEqual([]);
    expect(code).toBe(0);
    expect(node.stdout()).toContain('"msg":"stopped"');
  }, 90_000);
});
