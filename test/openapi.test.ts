import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateOpenApi } from './helpers/openapi.js';

type Operation = {
  operationId?: string;
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
        if (op.security && !(statuses.includes('401') && statuses.includes('403'))) problems.push(`${where}: protected but 401/403 undocumented`);
        if (op.requestBody && !statuses.includes('400')) problems.push(`${where}: takes a body but 400 undocumented`);
        const body = op.requestBody?.content['application/json']?.schema;
        if (body && body.type === 'object' && body.additionalProperties !== false) problems.push(`${where}: body allows unknown fields`);
      }
    }
    expect(problems).toEqual([]);
  });
});
