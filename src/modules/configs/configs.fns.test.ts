import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compareTexts, parseGitDiff } from './diff.fns.js';
import { verifyWebhook } from './webhook.fns.js';
import { deviceNameOf } from './history.service.js';

describe('parseGitDiff', () => {
  it('reads modifications, additions, deletions, pure renames and binaries', () => {
    const text = [
      'diff --git a/r1.cfg b/r1.cfg',
      'index 1111111..2222222 100644',
      '--- a/r1.cfg',
      '+++ b/r1.cfg',
      '@@ -1,2 +1,2 @@',
      ' hostname r1',
      '-ntp server 192.0.2.1',
      '+ntp server 192.0.2.2',
      'diff --git a/new.cfg b/new.cfg',
      'new file mode 100644',
      'index 0000000..3333333',
      '--- /dev/null',
      '+++ b/new.cfg',
      '@@ -0,0 +1 @@',
      '+hostname new',
      'diff --git a/old.cfg b/old.cfg',
      'deleted file mode 100644',
      'index 4444444..0000000',
      '--- a/old.cfg',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-hostname old',
      'diff --git a/a.cfg b/b.cfg',
      'similarity index 100%',
      'rename from a.cfg',
      'rename to b.cfg',
      'diff --git a/img.bin b/img.bin',
      'index 5555555..6666666 100644',
      'Binary files a/img.bin and b/img.bin differ',
      '',
    ].join('\n');
    const files = parseGitDiff(text);
    expect(files.map((f) => [f.status, f.old_path, f.new_path, f.binary, f.additions, f.deletions])).toEqual([
      ['modified', 'r1.cfg', 'r1.cfg', false, 1, 1],
      ['added', null, 'new.cfg', false, 1, 0],
      ['deleted', 'old.cfg', null, false, 0, 1],
      ['renamed', 'a.cfg', 'b.cfg', false, 0, 0],
      ['modified', 'img.bin', 'img.bin', true, 0, 0],
    ]);
    expect(files[0]!.hunks[0]).toEqual({
      header: '@@ -1,2 +1,2 @@',
      old_start: 1,
      old_lines: 2,
      new_start: 1,
      new_lines: 2,
      lines: [
        { type: 'context', old_line: 1, new_line: 1, text: 'hostname r1' },
        { type: 'delete', old_line: 2, new_line: null, text: 'ntp server 192.0.2.1' },
        { type: 'add', old_line: null, new_line: 2, text: 'ntp server 192.0.2.2' },
      ],
    });
    expect(files[1]!.hunks[0]!.header).toBe('@@ -0,0 +1,1 @@');
  });

  it('compares two texts in memory with the same shape', () => {
    const r = compareTexts({ path: 'a.cfg', text: 'x\ny\n' }, { path: 'b.cfg', text: 'x\nz\n' });
    expect(r.unified).toContain('--- a/a.cfg\n+++ b/b.cfg\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n');
    expect(r.file).toMatchObject({ additions: 1, deletions: 1, old_path: 'a.cfg', new_path: 'b.cfg' });
    expect(compareTexts({ path: 'a', text: 'same\n' }, { path: 'b', text: 'same\n' }).unified).toBe('');
  });
});

describe('verifyWebhook', () => {
  const secret = 'hook-secret-123';
  const body = '{"ref":"refs/heads/main"}';
  const hmac = createHmac('sha256', secret).update(body).digest('hex');
  it.each([
    [{ 'x-hub-signature-256': `sha256=${hmac}` }, 'github'],
    [{ 'x-gitea-signature': hmac }, 'gitea'],
    [{ 'x-gogs-signature': hmac }, 'gitea'],
    [{ 'x-gitlab-token': secret }, 'gitlab'],
    [{ 'x-hub-signature-256': `sha256=${hmac.replace(/.$/, '0')}` }, null],
    [{ 'x-hub-signature-256': hmac }, null],
    [{ 'x-gitlab-token': `${secret}x` }, null],
    [{}, null],
  ])('%j → %s', (headers, want) => expect(verifyWebhook(secret, headers, body)).toBe(want));
  it('binds the signature to the body', () => expect(verifyWebhook(secret, { 'x-hub-signature-256': `sha256=${hmac}` }, `${body} `)).toBeNull());
});

describe('deviceNameOf', () => {
  it.each([
    ['configs/core-1.cfg', 'core-1'],
    ['r1', 'r1'],
    ['a/b/sw.lab.example.txt', 'sw.lab.example'],
    ['.hidden', '.hidden'],
  ])('%s → %s', (file, name) => expect(deviceNameOf(file)).toBe(name));
});
