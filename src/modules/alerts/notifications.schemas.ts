import { Type } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery } from '../../platform/http/pagination.js';
import { SEVERITIES } from './alerts.fns.js';
import { CHANNEL_TYPES } from './channels.js';

const lit = <T extends string>(values: readonly T[]) => Type.Unsafe<T>(Type.Union(values.map((v) => Type.Literal(v))));
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Template = Type.String({ maxLength: 20_000 });

export const ChannelSettings = Type.Object(
  {
    url: Type.Optional(Type.String({ maxLength: 2000, description: 'webhook: the receiver' })),
    headers: Type.Optional(
      Type.Record(Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9-]+$' }), Type.String({ maxLength: 1000 }), {
        maxProperties: 20,
        description: 'webhook: extra headers (stored in clear; put credentials in secrets.authorization)',
      }),
    ),
    host: Type.Optional(
      Type.String({ minLength: 1, maxLength: 255, description: 'email: SMTP server; apns: APNs host (default api.push.apple.com, or the sandbox)' }),
    ),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535, description: 'email: SMTP port; apns: default 443' })),
    tls: Type.Optional(lit(['none', 'starttls', 'tls'] as const)),
    from: Type.Optional(
      Type.String({ minLength: 1, maxLength: 320, description: 'email: sender address; twilio_sms: E.164 sender number or alphanumeric sender ID' }),
    ),
    to: Type.Optional(
      Type.Array(Type.String({ minLength: 3, maxLength: 320 }), {
        minItems: 1,
        maxItems: 50,
        description: 'email: recipient addresses; twilio_sms: E.164 numbers (+14155550100)',
      }),
    ),
    username: Type.Optional(Type.String({ maxLength: 255 })),
    events_url: Type.Optional(Type.String({ maxLength: 2000, description: 'pagerduty: Events API v2 URL (default https://events.pagerduty.com/v2/enqueue)' })),
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'slack_bot: channel ID or name to post to' })),
    api_url: Type.Optional(Type.String({ maxLength: 2000, description: 'slack_bot: chat.postMessage URL (default https://slack.com/api/chat.postMessage)' })),
    api_base: Type.Optional(
      Type.String({
        maxLength: 2000,
        description: 'twilio_sms: API base (default https://api.twilio.com); fcm: API base (default https://fcm.googleapis.com)',
      }),
    ),
    account_sid: Type.Optional(Type.String({ pattern: '^AC[0-9a-fA-F]{32}$', maxLength: 34, description: 'twilio_sms: account SID (AC…)' })),
    messaging_service_sid: Type.Optional(
      Type.String({ pattern: '^MG[0-9a-fA-F]{32}$', maxLength: 34, description: 'twilio_sms: messaging service SID (MG…), instead of from' }),
    ),
    max_length: Type.Optional(
      Type.Integer({ minimum: 20, maximum: 1600, description: 'twilio_sms: message length in characters, cut with … (default 320: two segments)' }),
    ),
    topic: Type.Optional(
      Type.String({ pattern: '^[a-zA-Z0-9-_.~%]{1,900}$', maxLength: 900, description: 'fcm: topic to send to (instead of device_tokens)' }),
    ),
    device_tokens: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9:_-]{8,4096}$', maxLength: 4096 }), {
        minItems: 1,
        maxItems: 50,
        description: 'fcm: registration tokens; apns: hex device tokens (one request each)',
      }),
    ),
    bundle_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'apns: the app bundle ID (apns-topic)' })),
    key_id: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{10}$', maxLength: 10, description: 'apns: the .p8 key ID (JWT kid)' })),
    team_id: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{10}$', maxLength: 10, description: 'apns: the Apple team ID (JWT iss)' })),
    sandbox: Type.Optional(Type.Boolean({ description: 'apns: use api.sandbox.push.apple.com when no host is given' })),
    priority: Type.Optional(Type.Unsafe<5 | 10>(Type.Union([Type.Literal(5), Type.Literal(10)], { description: 'apns: apns-priority (default 10)' }))),
    ca: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 20_000,
        description: 'slack_bot, twilio_sms, fcm, apns: PEM CA certificates to trust instead of the system store (a private gateway)',
      }),
    ),
  },
  { additionalProperties: false },
);
const SECRET_FIELDS: [string, number, number][] = [
  ['password', 1, 1000],
  ['hmac_secret', 16, 1000],
  ['authorization', 1, 4000],
  ['webhook_url', 1, 2000],
  ['routing_key', 1, 200],
  ['bot_token', 1, 500],
  ['auth_token', 1, 200],
  ['service_account', 2, 20_000],
  ['private_key', 1, 10_000],
];
const SECRETS_HELP =
  'Write-only: email password, webhook hmac_secret/authorization, slack/teams webhook_url, pagerduty routing_key, slack_bot bot_token, twilio_sms auth_token, fcm service_account (the JSON key file as a string), apns private_key (the .p8 PEM)';
const SecretValues = Type.Object(
  Object.fromEntries(SECRET_FIELDS.map(([k, min, max]) => [k, Type.Optional(Type.String({ minLength: min, maxLength: max }))])),
  { additionalProperties: false, description: SECRETS_HELP },
);
const NullableSecretValues = Type.Object(
  Object.fromEntries(SECRET_FIELDS.map(([k, min, max]) => [k, Type.Optional(Nullable(Type.String({ minLength: min, maxLength: max })))])),
  {
    additionalProperties: false,
    description: `${SECRETS_HELP}. Merged into the stored secrets; null removes one`,
  },
);
const TemplateBody = Type.Object(
  { subject: Type.Optional(Template), body: Type.Optional(Template) },
  {
    additionalProperties: false,
    description: 'Overrides the channel type default (rendered with the template engine; variables: alert, action, notification_id)',
  },
);

export const Channel = Type.Object(
  {
    id: Uuid,
    name: Name,
    type: lit(CHANNEL_TYPES),
    enabled: Type.Boolean(),
    settings: ChannelSettings,
    template: Nullable(TemplateBody),
    secrets: Type.Record(Type.String({ maxLength: 50 }), Type.Object({ set: Type.Literal(true) }, { additionalProperties: false }), {
      description: 'Which secrets are set; values are never returned',
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export const CreateChannelBody = Type.Object(
  {
    name: Name,
    type: lit(CHANNEL_TYPES),
    enabled: Type.Optional(Type.Boolean()),
    settings: Type.Optional(ChannelSettings),
    secrets: Type.Optional(SecretValues),
    template: Type.Optional(Nullable(TemplateBody)),
  },
  { additionalProperties: false },
);
export const UpdateChannelBody = Type.Object(
  {
    name: Type.Optional(Name),
    enabled: Type.Optional(Type.Boolean()),
    settings: Type.Optional(ChannelSettings),
    secrets: Type.Optional(NullableSecretValues),
    template: Type.Optional(Nullable(TemplateBody)),
  },
  { additionalProperties: false, minProperties: 1 },
);

const Match = Type.Object(
  {
    sources: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 })),
    severities: Type.Optional(Type.Array(lit(SEVERITIES), { maxItems: 5 })),
    labels: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 500 }), { maxProperties: 20 })),
    device_ids: Type.Optional(
      Type.Array(Type.String({ format: 'uuid' }), {
        maxItems: 100,
        description: 'Inventory devices the alert is about: its `device_id` label, or its `device` label (a device name). Unknown ids answer 422',
      }),
    ),
    location_ids: Type.Optional(
      Type.Array(Type.String({ format: 'uuid' }), {
        maxItems: 100,
        description: "Inventory locations: the alert's device (as for device_ids) is in one of them or in a location below one of them. Unknown ids answer 422",
      }),
    ),
    team_ids: Type.Optional(
      Type.Array(Type.String({ format: 'uuid' }), {
        maxItems: 100,
        description: "Teams: the alert's `team_id` label is one of them (inventory devices have no team). Unknown ids answer 422",
      }),
    ),
  },
  { additionalProperties: false, description: 'Every part given must match; {} matches every alert' },
);
const QuietHours = Type.Object(
  {
    start: Type.String({ maxLength: 5, pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
    end: Type.String({ maxLength: 5, pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
    timezone: Type.String({ minLength: 1, maxLength: 64 }),
    except: Type.Optional(Type.Array(lit(SEVERITIES), { maxItems: 5, description: 'Delivered even in quiet hours (default: critical)' })),
  },
  { additionalProperties: false, description: 'Notifications inside the window wait for its end' },
);
const ChannelIds = Type.Array(Uuid, { maxItems: 20 });
const GroupBy = Type.Array(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:/-]+$' }), {
  maxItems: 10,
  uniqueItems: true,
  description: "Label names (and `source`, `severity`) whose values split a rule's alerts into groups; [] puts them all in one",
});
const RuleFields = {
  name: Name,
  enabled: Type.Optional(Type.Boolean()),
  match: Type.Optional(Match),
  channel_ids: Type.Array(Uuid, { minItems: 1, maxItems: 20 }),
  repeat_interval_seconds: Type.Optional(
    Nullable(Type.Integer({ minimum: 60, maximum: 30 * 86_400, description: 'Notify a still-firing alert again after this long (null: once)' })),
  ),
  quiet_hours: Type.Optional(Nullable(QuietHours)),
  escalate_after_minutes: Type.Optional(
    Nullable(
      Type.Integer({
        minimum: 1,
        maximum: 10_080,
        description: 'Notify escalation_channel_ids if the alert is still open (not acknowledged) this long after it opened',
      }),
    ),
  ),
  escalation_channel_ids: Type.Optional(ChannelIds),
  group_window_seconds: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 86_400,
      description:
        'Alerts opened within this many seconds of the first of their group go out as one notification when the window closes (0: each alert on its own)',
    }),
  ),
  group_by: Type.Optional(GroupBy),
};
export const CreateRuleBody = Type.Object(RuleFields, { additionalProperties: false });
export const UpdateRuleBody = Type.Partial(Type.Object(RuleFields, { additionalProperties: false }), { additionalProperties: false, minProperties: 1 });
export const Rule = Type.Object(
  {
    id: Uuid,
    name: Name,
    enabled: Type.Boolean(),
    match: Match,
    channel_ids: ChannelIds,
    repeat_interval_seconds: Nullable(Type.Integer()),
    quiet_hours: Nullable(QuietHours),
    escalate_after_minutes: Nullable(Type.Integer()),
    escalation_channel_ids: ChannelIds,
    group_window_seconds: Type.Integer(),
    group_by: GroupBy,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

const NOTIFICATION_STATUSES = ['pending', 'running', 'delivered', 'dead', 'cancelled'] as const;
export const Notification = Type.Object(
  {
    id: Uuid,
    alert_id: Nullable(Uuid),
    channel_id: Uuid,
    rule_id: Nullable(Uuid),
    kind: lit(['alert', 'escalation', 'group', 'security', 'test'] as const),
    action: lit(['trigger', 'acknowledge', 'resolve'] as const),
    status: lit(NOTIFICATION_STATUSES),
    attempts: Type.Integer({ minimum: 0 }),
    next_attempt_at: Nullable(Timestamp),
    last_status_code: Nullable(Type.Integer()),
    last_error: Nullable(Type.String({ maxLength: 1000 })),
    delivered_at: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export const NotificationWithLog = Type.Object(
  {
    ...Notification.properties,
    log: Type.Array(
      Type.Object(
        {
          attempt: Type.Integer(),
          status_code: Nullable(Type.Integer()),
          error: Nullable(Type.String({ maxLength: 1000 })),
          duration_ms: Type.Integer(),
          at: Timestamp,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export const ListNotificationsQuery = Type.Object(
  { ...PageQuery, status: Type.Optional(lit(NOTIFICATION_STATUSES)), alert_id: Type.Optional(Uuid), channel_id: Type.Optional(Uuid) },
  { additionalProperties: false },
);
