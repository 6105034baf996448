import { describe, expect, it } from 'vitest';
import { edgeState, forbiddenKeys, readiness, soleExpression, validateGraph, type Graph, type NodeState } from './workflows.fns.js';

const t = { id: 'start', type: 'trigger', parameters: {} };
const noop = (id: string) => ({ id, type: 'noop', parameters: {} });

describe('validateGraph', () => {
  it('accepts a valid diamond', () => {
    const g: Graph = {
      nodes: [t, noop('a'), noop('b'), { ...noop('m'), join: 'any' }],
      edges: [
        { from: 'start', to: 'a' },
        { from: 'start', to: 'b' },
        { from: 'a', to: 'm' },
        { from: 'b', to: 'm' },
      ],
    };
    expect(validateGraph(g, new Set())).toEqual([]);
  });

  it.each([
    ['no trigger', { nodes: [noop('a')], edges: [] }, 'body.graph.nodes', "exactly one node of type 'trigger' (has 0)"],
    [
      'an edge into the trigger',
      {
        nodes: [t, noop('a')],
        edges: [
          { from: 'start', to: 'a' },
          { from: 'a', to: 'start' },
        ],
      },
      'body.graph.edges[1].to',
      'nothing may lead into',
    ],
    ['a port the node lacks', { nodes: [t, noop('a')], edges: [{ from: 'start', to: 'a', port: 'true' }] }, 'body.graph.edges[0].port', "has no port 'true'"],
    ['duplicate ids', { nodes: [t, noop('a'), noop('a')], edges: [{ from: 'start', to: 'a' }] }, 'body.graph.nodes[2].id', "duplicate node id 'a'"],
    [
      'on_error error without an error edge',
      { nodes: [t, { ...noop('a'), on_error: 'error' as const }], edges: [{ from: 'start', to: 'a' }] },
      'body.graph.nodes[1].on_error',
      "needs an edge from this node with port 'error'",
    ],
    [
      'an unknown parameter',
      { nodes: [t, { id: 'a', type: 'noop', parameters: { x: 1 } }], edges: [{ from: 'start', to: 'a' }] },
      'body.graph.nodes[1].parameters.x',
      "is not a parameter of node type 'noop'",
    ],
    [
      'a for_each running a node type it may not',
      { nodes: [t, { id: 'a', type: 'for_each', parameters: { items: [], node: { type: 'approval' } } }], edges: [{ from: 'start', to: 'a' }] },
      'body.graph.nodes[1].parameters.node.type',
      'must be one of',
    ],
  ] as [string, Graph, string, string][])('refuses %s', (_name, graph, path, message) => {
    const errors = validateGraph(graph, new Set());
    expect(errors.find((e) => e.path === path)?.message ?? JSON.stringify(errors)).toContain(message);
  });

  it('allows a switch to leave by its cases and default only', () => {
    const sw = { id: 's', type: 'switch', parameters: { expression: 'x', cases: ['a', 'b'] } };
    const ok = {
      nodes: [t, sw, noop('x'), noop('y')],
      edges: [
        { from: 'start', to: 's' },
        { from: 's', to: 'x', port: 'a' },
        { from: 's', to: 'y', port: 'default' },
      ],
    };
    expect(validateGraph(ok, new Set())).toEqual([]);
    expect(validateGraph({ ...ok, edges: [...ok.edges, { from: 's', to: 'y', port: 'c' }] }, new Set())[0]!.path).toBe('body.graph.edges[3].port');
  });
});

describe('forbiddenKeys', () => {
  it('finds prototype keys at any depth, in arrays too', () => {
    const value = JSON.parse('{"a":[{"b":{"__proto__":{"x":1}}}],"constructor":{"prototype":{}}}') as unknown;
    expect(forbiddenKeys(value, 'body').map((e) => e.path)).toEqual(['body.a[0].b.__proto__', 'body.constructor']);
  });
});

describe('edgeState and readiness (joins)', () => {
  const states = (entries: [string, NodeState][]) => new Map(entries);
  const yes = () => true;
  it('decides an edge by its source status and port', () => {
    const s = states([
      ['a', { status: 'running', port: null }],
      ['b', { status: 'succeeded', port: 'true' }],
      ['c', { status: 'failed', port: 'error' }],
      ['d', { status: 'skipped', port: null }],
    ]);
    expect(edgeState({ from: 'a', to: 'x' }, s, yes)).toBe('open');
    expect(edgeState({ from: 'b', to: 'x', port: 'true' }, s, yes)).toBe('taken');
    expect(edgeState({ from: 'b', to: 'x', port: 'false' }, s, yes)).toBe('dead');
    expect(edgeState({ from: 'b', to: 'x', port: 'true' }, s, () => false)).toBe('dead');
    expect(edgeState({ from: 'c', to: 'x', port: 'error' }, s, yes)).toBe('taken');
    expect(edgeState({ from: 'c', to: 'x' }, s, yes)).toBe('dead');
    expect(edgeState({ from: 'd', to: 'x' }, s, yes)).toBe('dead');
  });

  it.each([
    ['all', ['taken', 'open'], 'wait'],
    ['all', ['taken', 'dead'], 'run'],
    ['all', ['dead', 'dead'], 'skip'],
    ['any', ['taken', 'open'], 'run'],
    ['any', ['open', 'dead'], 'wait'],
    ['any', ['dead', 'dead'], 'skip'],
  ] as const)('join %s with %j → %s', (join, incoming, expected) => {
    expect(readiness({ ...noop('m'), join }, incoming)).toBe(expected);
  });
});

describe('soleExpression', () => {
  it.each([
    ['{{ a.b }}', 'a.b'],
    ['  {{ x | length }} ', 'x | length'],
    ['ip {{ a }}', null],
    ['{{ a }}{{ b }}', null],
    ['plain', null],
  ])('%j → %j', (text, expr) => {
    expect(soleExpression(text)).toBe(expr);
  });
});
