import { describe, expect, it } from 'vitest';
import { addCredential, createSecretScrubber, MASK } from './secret-scrubber.js';

describe('secret scrubber', () => {
  const secret = 'p@ss w0rd/+=?&';

  it.each([
    ['verbatim', `password is ${secret}!`],
    ['URL-encoded', `GET /login?pw=${encodeURIComponent(secret)}&x=1`],
    ['form-encoded', `pw=${encodeURIComponent(secret).replace(/%20/g, '+')}`],
    ['lower-case percent escapes', `pw=${encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`],
    ['base64', `blob ${Buffer.from(secret).toString('base64')} end`],
    ['base64url', `blob ${Buffer.from(secret).toString('base64url')} end`],
    ['base64 at offset 1', Buffer.from(`x${secret}yz`).toString('base64')],
    ['base64 at offset 2', Buffer.from(`xy${secret}z`).toString('base64')],
    ['HTTP Basic header', `Authorization: Basic ${Buffer.from(`admin:${secret}`).toString('base64')}`],
  ])('masks the %s form', (_name, text) => {
    const s = createSecretScrubber();
    s.add(secret);
    const out = s.scrub(text);
    expect(out).toContain(MASK);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
    // What remains must not decode back to the secret either.
    for (const token of out.split(/[^A-Za-z0-9+/=_-]+/)) expect(Buffer.from(token, 'base64').toString('latin1')).not.toContain(secret);
  });

  it('masks hex and each line of a multi-line secret such as a private key', () => {
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIO\n-----END OPENSSH PRIVATE KEY-----';
    const s = createSecretScrubber();
    s.add(key);
    s.add('hex-me-please');
    const out = s.scrub(`key:\r\n${key.replace(/\n/g, '\r\n')}\nhex ${Buffer.from('hex-me-please').toString('hex')}`);
    expect(out).not.toContain('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ');
    expect(out).not.toContain('AAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIO');
    expect(out).not.toContain(Buffer.from('hex-me-please').toString('hex'));
  });

  it('leaves text without secrets alone and masks several secrets, longest first', () => {
    const s = createSecretScrubber();
    expect(s.scrub('nothing added yet')).toBe('nothing added yet');
    s.add('abc');
    s.add('abcdef-long');
    expect(s.scrub('x abcdef-long y abc z')).toBe(`x ${MASK} y ${MASK} z`);
    expect(s.scrub('harmless line')).toBe('harmless line');
  });

  it('adds every secret of a resolved credential and its user:password pair', () => {
    const s = createSecretScrubber();
    addCredential(s, { attributes: { username: 'ops' }, secrets: { password: 'Pw-123456', enable_secret: 'En-98765' } });
    const header = Buffer.from('ops:Pw-123456').toString('base64');
    expect(s.scrub(`enable En-98765 / ${header}`)).toBe(`enable ${MASK} / ${MASK}`);
  });
});
