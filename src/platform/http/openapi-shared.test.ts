import { describe, expect, it } from 'vitest';
import { shareResponseSchemas } from './openapi-shared.js';

const obj = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, properties });
const str = { type: 'string', maxLength: 200, description: 'a long enough description to pass the size floor' };
const device = obj({ id: str, name: str, serial: str, platform: obj({ id: str, name: str, driver: str }) });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });

describe('shared response schemas', () => {
  it('names what a GET answers after it, refers to it from every repeat, and leaves single uses inline', () => {
    const once = obj({ only: str, here: str, alone: str });
    const paths = {
      '/devices': { get: { operationId: 'listDevices', responses: { 200: json(obj({ items: { type: 'array', items: device } })) } } },
      '/devices/{id}': { get: { operationId: 'getDevice', responses: { 200: json(device) } } },
      '/other': { post: { operationId: 'makeOther', responses: { 201: json(once) } } },
    };
    const schemas: Record<string, Record<string, unknown>> = {};
    shareResponseSchemas(paths, schemas);
    expect(Object.keys(schemas)).toEqual(['Device']);
    expect(schemas.Device).toEqual(device);
    expect(paths['/devices/{id}'].get.responses[200].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Device' });
    expect(paths['/devices'].get.responses[200].content['application/json'].schema).toEqual(
      obj({ items: { type: 'array', items: { $ref: '#/components/schemas/Device' } } }),
    );
    // The platform repeats only inside the device: it stays inline in the component.
    expect(paths['/other'].post.responses[201].content['application/json'].schema).toEqual(once);
  });

  it('never mutates the schemas it was given (routes serialise with them)', () => {
    const page = obj({ items: { type: 'array', items: device } });
    const before = JSON.stringify(page);
    const paths = {
      '/a': { get: { operationId: 'listA', responses: { 200: json(page) } } },
      '/b': { get: { operationId: 'listB', responses: { 200: json(page) } } },
    };
    shareResponseSchemas(paths, {});
    expect(JSON.stringify(page)).toBe(before);
  });

  it('does not take a name that is already a component', () => {
    const paths = {
      '/d': { get: { operationId: 'getDevice', responses: { 200: json(device) } } },
      '/e': { get: { operationId: 'listE', responses: { 200: json(obj({ items: { type: 'array', items: device } })) } } },
    };
    const schemas: Record<string, Record<string, unknown>> = { Device: { type: 'string' } };
    shareResponseSchemas(paths, schemas);
    expect(schemas.Device).toEqual({ type: 'string' });
    expect(schemas.Device2).toEqual(device);
  });
});
