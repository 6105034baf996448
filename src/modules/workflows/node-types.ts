/**
 * The catalogue of node types: each type's parameters and output as JSON Schema (served by
 * GET /workflows/node-types and used to validate a graph on save), its output ports, and whether
 * running it twice is harmless (what a resumed execution may repeat, see workflows.engine.ts).
 */
type JsonSchema = Record<string, unknown>;

export interface NodeTypeDef {
  type: string;
  description: string;
  parameters: JsonSchema & { properties: Record<string, JsonSchema>; required: string[] };
  output: JsonSchema;
  /** Fixed output ports; `null`: the ports come from the parameters (switch cases). Every node also has `error`. */
  ports: readonly string[] | null;
  /**
   * `none`: no effect outside the execution, rerun after a crash. `job`: a job run keyed by the
   * node, reattached after a crash (never created twice). `external`: an effect elsewhere (an
   * alert) that a crash mid-node leaves unknown: the node is failed as interrupted, not repeated.
   */
  effects: 'none' | 'job' | 'external';
}

const obj = (properties: Record<string, JsonSchema>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: false });
const any = (description: string): JsonSchema => ({ description });
const str = (description: string, maxLength = 2000): JsonSchema => ({ type: 'string', maxLength, description });
const int = (description: string, minimum: number, maximum: number): JsonSchema => ({ type: 'integer', minimum, maximum, description });

/** Node types every for-each may run per item (no nesting of for-each, joins or approvals). */
export const ITEM_TYPES = ['set', 'transform', 'job', 'noop'] as const;

export const NODE_TYPES: readonly NodeTypeDef[] = [
  {
    type: 'trigger',
    description: 'The start of every workflow (exactly one). Its output is the trigger: kind, body (manual input, webhook body or event payload), event name.',
    parameters: obj({}),
    output: obj({ kind: str('manual | webhook | event | retry'), body: any('The input'), event: str('Domain event name (event triggers)') }),
    ports: ['main'],
    effects: 'none',
  },
  {
    type: 'noop',
    description: 'Does nothing; passes `{}` on.',
    parameters: obj({}),
    output: obj({}),
    ports: ['main'],
    effects: 'none',
  },
  {
    type: 'set',
    description: 'Sets variables: each value (templated) is resolved and becomes the output and `vars.<name>` for later nodes.',
    parameters: obj({ values: { type: 'object', maxProperties: 100, description: 'name → value; strings may use {{ … }}' } }, ['values']),
    output: { type: 'object', description: 'The resolved values' },
    ports: ['main'],
    effects: 'none',
  },
  {
    type: 'condition',
    description: 'If/else: evaluates a Jinja expression (no braces) and continues on port `true` or `false`.',
    parameters: obj({ expression: str('e.g. nodes.ping1.output.status == "succeeded"', 1000) }, ['expression']),
    output: obj({ value: { type: 'boolean' } }),
    ports: ['true', 'false'],
    effects: 'none',
  },
  {
    type: 'switch',
    description: 'Evaluates a Jinja expression and continues on the port named like its value (one of `cases`), else on `default`.',
    parameters: obj(
      { expression: str('A Jinja expression', 1000), cases: { type: 'array', items: { type: 'string', maxLength: 100 }, minItems: 1, maxItems: 50 } },
      ['expression', 'cases'],
    ),
    output: obj({ value: any('The expression value'), port: { type: 'string' } }),
    ports: null,
    effects: 'none',
  },
  {
    type: 'delay',
    description: 'Waits, counted from when the node first started (a resumed execution waits only the rest).',
    parameters: obj({ ms: int('Milliseconds', 0, 86_400_000) }, ['ms']),
    output: obj({ waited_ms: { type: 'integer' } }),
    ports: ['main'],
    effects: 'none',
  },
  {
    type: 'transform',
    description: 'Evaluates a JSONata expression over `{ trigger, input, nodes, vars, item }`; the result is the output.',
    parameters: obj({ expression: str('JSONata', 10_000) }, ['expression']),
    output: any('The expression result'),
    ports: ['main'],
    effects: 'none',
  },
  {
    type: 'merge',
    description: 'Joins branches (set the node’s `join` to `all` or `any`); the output maps each finished predecessor to its output.',
    parameters: obj({}),
    output: obj({ inputs: { type: 'object' } }),
    ports: ['main'],
    effects: 'none',
  },
  {
    type: 'fail',
    description: 'Fails with a message (routes to the error edge or stops the execution, per `on_error`).',
    parameters: obj({ message: str('Templated message', 1000) }, ['message']),
    output: obj({}),
    ports: ['main'],
    effects: 'none',
  },
  {
    type: 'job',
    description:
      'Runs a jobs executor (ping, ssh_command, http_request, …) as a real job run through the jobs service, as the execution’s principal, and waits for it.',
    parameters: obj(
      {
        executor: str('A job type (GET /jobs/executors)', 50),
        params: { type: 'object', description: 'The executor’s parameters (templated)' },
        targets: { type: 'array', maxItems: 1000, description: 'Target selectors as for POST /jobs/runs (templated)' },
        credential_id: str('Credential for the targets', 36),
        timeout_ms: int('Run timeout', 1000, 86_400_000),
      },
      ['executor'],
    ),
    output: obj({ run_id: { type: 'string' }, status: { type: 'string' }, targets: { type: 'array' } }),
    ports: ['main'],
    effects: 'job',
  },
  {
    type: 'notification',
    description: 'Raises an alert through the alerts module (its routing rules notify the channels).',
    parameters: obj(
      {
        title: str('Templated', 500),
        description: str('Templated', 4000),
        severity: { enum: ['critical', 'major', 'minor', 'warning', 'info'] },
        dedup_key: str('Templated; repeats count up one alert', 300),
      },
      ['title'],
    ),
    output: obj({ outcome: { type: 'string' }, alert_id: { type: ['string', 'null'] } }),
    ports: ['main'],
    effects: 'external',
  },
  {
    type: 'approval',
    description:
      'Pauses until a user with workflows:execute approves or rejects (POST /workflows/executions/{id}/nodes/{node}/approve|reject); leaves by `approved` or `rejected`, fails when `timeout_seconds` pass first.',
    parameters: obj({ message: str('Shown to approvers (templated)', 2000), timeout_seconds: int('Default 86400', 1, 2_592_000) }),
    output: obj({ decision: { enum: ['approved', 'rejected'] }, by: { type: 'string' }, at: { type: 'string' }, comment: { type: 'string' } }),
    ports: ['approved', 'rejected'],
    effects: 'none',
  },
  {
    type: 'for_each',
    description: `Runs one node (type ${ITEM_TYPES.join(', ')}) per item of a list, \`concurrency\` at a time; \`item\` and \`index\` are in scope. Output: the results in order.`,
    parameters: obj(
      {
        items: any('A list, usually "{{ nodes.x.output.list }}"'),
        concurrency: int('Items at once (default 4)', 1, 50),
        node: obj({ type: { enum: [...ITEM_TYPES] }, parameters: { type: 'object' } }, ['type']),
      },
      ['items', 'node'],
    ),
    output: obj({ results: { type: 'array' } }),
    ports: ['main'],
    effects: 'job',
  },
];

export const NODE_TYPE_MAP: ReadonlyMap<string, NodeTypeDef> = new Map(NODE_TYPES.map((d) => [d.type, d]));
