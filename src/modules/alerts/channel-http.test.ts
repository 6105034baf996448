import { describe, expect, it } from 'vitest';
import { retryAfterMs, toEach, type SendResult } from './channel-http.js';
import { smsText, truncate } from './channels.push.js';

const ok: SendResult = { ok: true, statusCode: 200, error: null };
const fail = (final: boolean, retryAfter?: number): SendResult => ({
  ok: false,
  statusCode: final ? 400 : 503,
  error: final ? 'refused' : 'busy',
  ...(final ? { final } : {}),
  ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
});

describe('channel sends', () => {
  it('reads Retry-After as seconds or an HTTP date, capped at an hour, ignoring junk', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Mon, 07 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('86400', now)).toBe(3_600_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('Mon, 07 Dec 2026 11:00:00 GMT', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('sends to every recipient: delivered only when all were, final only when every failure is, waiting the longest Retry-After', async () => {
    const run = (results: SendResult[]) =>
      toEach(
        results,
        (_r, i) => `#${i + 1}`,
        async (r) => r,
      );
    expect((await run([ok, ok])).ok).toBe(true);
    const mixed = await run([ok, fail(true), fail(false, 2000), fail(false, 5000)]);
    expect(mixed).toMatchObject({ ok: false, statusCode: 400, retryAfterMs: 5000 });
    expect(mixed.final).toBeUndefined();
    expect(mixed.error).toBe('#2: refused; #3: busy; #4: busy');
    expect(await run([fail(true), ok, fail(true)])).toMatchObject({ ok: false, final: true });
    expect(await run([])).toMatchObject({ ok: false, final: true, error: 'the channel has no recipients' });
  });

  it('cuts SMS text by characters (not bytes) with an ellipsis', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('ääääääääää', 5)).toBe('ääää…');
    expect([...smsText({ subject: '[CRITICAL] 🔥 core down', text: 'x'.repeat(400) }, 160)]).toHaveLength(160);
    expect(smsText({ subject: 'only subject', text: '' }, 160)).toBe('only subject');
  });
});
