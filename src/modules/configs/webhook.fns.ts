import { createHmac, timingSafeEqual } from 'node:crypto';

export type WebhookHeaders = Record<string, string | string[] | undefined>;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const header = (h: WebhookHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Checks a push webhook against the repository's secret, by the sender's scheme: GitHub
 * (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`), Gitea/Gogs (`X-Gitea-Signature`
 * / `X-Gogs-Signature: <hex HMAC-SHA256>`), GitLab (`X-Gitlab-Token: <secret>`). Returns the
 * scheme that matched, or null.
 */
export function verifyWebhook(secret: string, headers: WebhookHeaders, body: string): 'github' | 'gitea' | 'gitlab' | null {
  const hmac = () => createHmac('sha256', secret).update(body, 'utf8').digest('hex');
  const github = header(headers, 'x-hub-signature-256');
  if (github !== undefined) return same(github, `sha256=${hmac()}`) ? 'github' : null;
  const gitea = header(headers, 'x-gitea-signature') ?? header(headers, 'x-gogs-signature');
  if (gitea !== undefined) return same(gitea, hmac()) ? 'gitea' : null;
  const gitlab = header(headers, 'x-gitlab-token');
  if (gitlab !== undefined) return same(gitlab, secret) ? 'gitlab' : null;
  return null;
}
