import type { ChannelType, Message } from './channels.js';
import type { ChannelRow } from './notifications.repository.js';

/** The template engine of the templates module (sandboxed, in worker threads). */
export type RenderPort = (source: string, vars: Record<string, unknown>) => Promise<{ ok: true; output: string } | { ok: false; error: { message: string } }>;

const SUBJECT = "{% if action == 'resolve' %}[RESOLVED] {% elif action == 'acknowledge' %}[ACK] {% endif %}[{{ alert.severity | upper }}] {{ alert.title }}";
const TEXT = `{{ alert.title }}
Severity: {{ alert.severity }} · State: {{ alert.state }} · Source: {{ alert.source }} · Seen {{ alert.count }}×
{% if alert.description %}
{{ alert.description }}
{% endif %}{% for k, v in alert.labels | dictsort %}{{ k }}={{ v }}{% if not loop.last %}, {% endif %}{% endfor %}`;

/** SMS and push: the subject says what happened; the body only where and what it is (the text is cut to fit: `channels.push.ts`). */
const SHORT = `{{ alert.source }}{% if 'instance' in alert.labels %} · {{ alert.labels['instance'] }}{% endif %}{% if alert.count > 1 %} · seen {{ alert.count }}×{% endif %}{% if alert.description %}
{{ alert.description }}{% endif %}`;

/** Default subject and body per channel type; a channel's `template` overrides either. Webhooks send a JSON body only when they have a body template. */
export const DEFAULT_TEMPLATES: Record<ChannelType, { subject: string; body: string | null }> = {
  email: { subject: SUBJECT, body: TEXT },
  slack: { subject: SUBJECT, body: TEXT },
  teams: { subject: SUBJECT, body: TEXT },
  pagerduty: { subject: '{{ alert.title }}', body: TEXT },
  webhook: { subject: SUBJECT, body: null },
  slack_bot: { subject: SUBJECT, body: TEXT },
  twilio_sms: { subject: SUBJECT, body: SHORT },
  fcm: { subject: SUBJECT, body: SHORT },
  apns: { subject: SUBJECT, body: SHORT },
};

/** Subject, text and (webhook) JSON body of a message; `{ error }` when a template fails or a webhook body is not JSON. */
export async function renderMessage(
  render: RenderPort,
  channel: Pick<ChannelRow, 'type' | 'template'>,
  m: Omit<Message, 'subject' | 'text' | 'body'>,
): Promise<{ subject: string; text: string; body: string | null } | { error: string }> {
  const type = channel.type as ChannelType;
  const defaults = DEFAULT_TEMPLATES[type];
  const vars = { alert: m.alert, action: m.action, notification_id: m.notificationId };
  const subject = await render(channel.template?.subject ?? defaults.subject, vars);
  if (!subject.ok) return { error: `the subject template failed: ${subject.error.message}` };
  const text = await render(type === 'webhook' ? TEXT : (channel.template?.body ?? defaults.body ?? TEXT), vars);
  if (!text.ok) return { error: `the body template failed: ${text.error.message}` };
  let body: string | null = null;
  if (type === 'webhook' && channel.template?.body) {
    const r = await render(channel.template.body, vars);
    if (!r.ok) return { error: `the body template failed: ${r.error.message}` };
    try {
      body = JSON.stringify(JSON.parse(r.output));
    } catch {
      return { error: 'the body template did not render JSON' };
    }
  }
  return { subject: subject.output.trim().slice(0, 1000), text: text.output.trim(), body };
}
