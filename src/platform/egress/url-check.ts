import type { EgressPolicy } from './policy.js';

/** Why an outbound URL cannot be saved: `invalid` (not an http(s) URL, user info) or `denied` (the policy). */
export interface UrlProblem {
  kind: 'invalid' | 'denied';
  message: string;
}

function parse(text: string): URL | UrlProblem {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { kind: 'invalid', message: 'must be an absolute http:// or https:// URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { kind: 'invalid', message: 'only http:// and https:// URLs are allowed' };
  if (url.username || url.password) return { kind: 'invalid', message: 'must not carry user:password@ (use a credential)' };
  return url;
}

/**
 * The save-time check of an outbound URL without DNS: http(s), no user info, and an IP-literal
 * host (any form: `0`, `2130706433`, `[::ffff:127.0.0.1]`…, normalised by WHATWG URL) or a
 * denied name refused by the policy. Job templates and runs use this (`http_request`'s check).
 */
export function checkOutboundUrlNow(policy: EgressPolicy, text: string): UrlProblem | null {
  const url = parse(text);
  if (!(url instanceof URL)) return url;
  const reason = policy.checkLiteral(url);
  return reason ? { kind: 'denied', message: reason } : null;
}

/**
 * The save-time check for URLs Opsdeck calls on its own (webhooks; alert channels call it too):
 * `checkOutboundUrlNow`, then the host's resolved addresses through the policy. The verdict
 * at save time is advice; every delivery is checked again (`egressRequest`).
 */
export async function checkOutboundUrl(policy: EgressPolicy, text: string): Promise<UrlProblem | null> {
  const url = parse(text);
  if (!(url instanceof URL)) return url;
  const verdict = await policy.check(url);
  return verdict.ok ? null : { kind: 'denied', message: verdict.reason };
}
