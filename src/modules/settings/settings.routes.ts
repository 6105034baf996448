import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { STEP_UP_HEADER } from '../identity/index.js';
import { errorResponses } from '../../platform/http/schemas.js';
import { EgressTestBody, ExplainQuery, KeyParams, sectionChange, sectionView, SectionSummary, TestResult } from './settings.schemas.js';
import { SECTION_NAMES, SECTIONS } from './settings.sections.js';
import type { SettingsService } from './settings.service.js';

const tags = ['settings'];
const read = { permission: 'settings:read' };
const write = { permission: 'settings:write' };

/** `If-Match: 3` or `If-Match: "3"`: the version the change is based on. */
function writeOptions(req: FastifyRequest) {
  const match = /^\s*"?(\d{1,10})"?\s*$/.exec(String(req.headers['if-match'] ?? ''));
  const code = req.headers[STEP_UP_HEADER];
  return { ifMatch: match ? Number(match[1]) : undefined, stepUpCode: typeof code === 'string' ? code : undefined };
}

/** /api/v1/settings: one set of routes per section, so each has its own typed schema. */
export function settingsRoutes(service: SettingsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/settings',
      {
        config: read,
        schema: {
          operationId: 'listSettingsSections',
          tags,
          summary: 'The settings sections with their versions',
          response: { 200: Type.Object({ items: Type.Array(SectionSummary) }, { additionalProperties: false }), ...errorResponses() },
        },
      },
      async (req) => ({ items: service.list(req.actor) }),
    );
    for (const name of SECTION_NAMES) {
      const View = sectionView(name);
      const stepUp = (SECTIONS[name] as { stepUp?: boolean }).stepUp ? ` Needs a recent sign-in (step-up; \`${STEP_UP_HEADER}\` for 2FA users).` : '';
      const id = name[0]!.toUpperCase() + name.slice(1);
      app.get(
        `/settings/${name}`,
        {
          config: read,
          schema: {
            operationId: `get${id}Settings`,
            tags,
            summary: `The ${name} settings: ${SECTIONS[name].description}`,
            querystring: ExplainQuery,
            response: { 200: View, ...errorResponses() },
          },
        },
        async (req) => service.get(req.actor, name, req.query.explain === true),
      );
      app.patch(
        `/settings/${name}`,
        {
          config: write,
          schema: {
            operationId: `update${id}Settings`,
            tags,
            summary: `Change ${name} settings (applied on every node without restart; audited).${stepUp}`,
            body: sectionChange(name),
            response: { 200: View, ...errorResponses(409, 422) },
          },
        },
        async (req) => service.update(req.actor, name, req.body as Record<string, unknown>, writeOptions(req)),
      );
      app.delete(
        `/settings/${name}/:key`,
        {
          config: { ...write, scope: 'global', resource: 'setting' },
          schema: {
            operationId: `reset${id}Setting`,
            tags,
            summary: `Remove a ${name} key from the database: it falls back to environment or default.${stepUp}`,
            params: KeyParams(name),
            response: { 200: View, ...errorResponses(409, 422) },
          },
        },
        async (req) => service.reset(req.actor, name, (req.params as { key: string }).key, writeOptions(req)),
      );
    }
    app.post(
      '/settings/egress/test',
      {
        config: write,
        schema: {
          operationId: 'testEgressSettings',
          tags,
          summary: 'Whether a URL may be reached under the proposed egress lists (nothing is saved)',
          body: EgressTestBody,
          response: { 200: TestResult, ...errorResponses(422) },
        },
      },
      async (req) => service.testEgress(req.actor, req.body),
    );
    app.post(
      '/settings/notifications/test',
      {
        config: write,
        schema: {
          operationId: 'testNotificationsSettings',
          tags,
          summary: 'Connect to the proposed SMTP server and read its greeting (nothing is saved)',
          body: sectionChange('notifications'),
          response: { 200: TestResult, ...errorResponses(422) },
        },
      },
      async (req) => service.testNotifications(req.actor, req.body as Record<string, unknown>),
    );
  };
}
