import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { filterKeys, generateOpenApi } from './helpers/openapi.js';
import { createTestServer } from './helpers/server.js';
import { adminToken, bearer } from './helpers/auth.js';
import { FILTERS_PARAMETER } from '../src/platform/http/openapi.js';

type Parameter = { name: string; in: string; schema: { patternProperties?: Record<string, { $ref?: string; items?: unknown }> } };
type Operation = {
  operationId?: string;
  parameters?: Parameter[];
  tags?: string[];
  summary?: string;
  security?: unknown[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses?: Record<string, unknown>;
};

describe('the OpenAPI document', () => {
  it('matches the committed docs/openapi.json (run `npm run docs` after changing routes)', async () => {
    const spec = await generateOpenApi();
    const committed = JSON.parse(fs.readFileSync(new URL('../docs/openapi.json', import.meta.url), 'utf8'));
    expect(spec).toEqual(committed);
  });

  it('describes every operation completely', async () => {
    const spec = (await generateOpenApi()) as { paths: Record<string, Record<string, Operation>> };
    const ids = new Set<string>();
    const problems: string[] = [];
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        if (!op.operationId) problems.push(`${where}: no operationId`);
        else if (ids.has(op.operationId)) problems.push(`${where}: duplicate operationId ${op.operationId}`);
        else ids.add(op.operationId);
        if (!op.tags?.length) problems.push(`${where}: no tags`);
        if (!op.summary) problems.push(`${where}: no summary`);
        const statuses = Object.keys(op.responses ?? {});
        if (!statuses.some((s) => s.startsWith('2'))) problems.push(`${where}: no success response`);
        if (op.security?.length && !(statuses.includes('401') && statuses.includes('403'))) problems.push(`${where}: protected but 401/403 undocumented`);
        if (op.requestBody && !statuses.includes('400')) problems.push(`${where}: takes a body but 400 undocumented`);
        const body = op.requestBody?.content['application/json']?.schema;
        if (body && body.type === 'object' && body.additionalProperties !== false) problems.push(`${where}: body allows unknown fields`);
        if (!op.security) problems.push(`${where}: neither protected nor marked public (security: [])`);
        if (!statuses.some((s) => s.startsWith('4'))) problems.push(`${where}: no 4xx response`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('accepts every documented filter on its route and refuses an undocumented one, naming it', async () => {
    const server = await createTestServer('sqlite');
    try {
      const spec = (await server.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>> };
      const headers = bearer(await adminToken(server));
      const sample: Record<string, string> = {
        FilterText: 'x',
        FilterNumber: '1.5',
        FilterInteger: '1',
        FilterDate: '2024-01-01',
        FilterUuid: '0192f0a0-1111-7000-8000-00000000f022',
        FilterBool: 'true',
        FilterIsNull: 'true',
      };
      let operations = 0;
      for (const [path, item] of Object.entries(spec.paths)) {
        const op = item.get;
        const filters = op?.parameters?.find((p) => p.name === FILTERS_PARAMETER);
        if (!filters) continue;
        operations++;
        const query = new URLSearchParams();
        for (const [pattern, schema] of Object.entries(filters.schema.patternProperties ?? {})) {
          const items = (schema.items ?? {}) as { enum?: string[] };
          const value = schema.$ref ? sample[schema.$ref.split('/').pop()!] : items.enum?.[0];
          expect(value, `${path} ${pattern}`).toBeDefined();
          for (const key of filterKeys({ patternProperties: { [pattern]: schema } })) query.append(key, value!);
        }
        const url = path.replace(/\{[^}]+\}/g, '0192f0a0-1111-7000-8000-00000000f023');
        const all = await server.app.inject({ method: 'GET', url: `${url}?${query}`, headers });
        expect(all.statusCode, `${path}: ${all.body.slice(0, 300)}`).not.toBe(400);
        expect(all.statusCode).toBeLessThan(500);
        const unknown = await server.app.inject({ method: 'GET', url: `${url}?no_such_field__ic=x`, headers });
        expect(unknown.statusCode, path).toBe(400);
        expect(unknown.body, path).toContain('no_such_field__ic');
      }
      expect(operations).toBeGreaterThan(20);
    } finally {
      await server.close();
    }
  }, 120_000);
});
