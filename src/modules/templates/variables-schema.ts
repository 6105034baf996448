import { Ajv, type ErrorObject } from 'ajv';
import { checkLinearRegex, linearTest, LinearRegexError } from '../../platform/linear-regex.js';
import { ValidationError, type FieldError } from '../../platform/errors.js';

/**
 * A template's stored variables schema, compiled once and enforced at render. User schemas may
 * carry `pattern`s: Ajv runs them on RE2 (linear time, platform/linear-regex.ts), never on V8's
 * backtracking RegExp.
 */
export type VariablesValidator = (vars: Record<string, unknown>, path: string) => void;

const linearEngine = Object.assign(
  (pattern: string) => {
    try {
      checkLinearRegex(pattern);
    } catch (err) {
      if (err instanceof LinearRegexError) throw new Error(`pattern ${JSON.stringify(pattern)} is not RE2 syntax: ${err.message}`, { cause: err });
      throw err;
    }
    return { test: (s: string) => linearTest(pattern, s) } as unknown as RegExp;
  },
  { code: 'linearTest' },
);

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { regExp: linearEngine } });

function fieldErrors(errors: ErrorObject[] | null | undefined, path: string): FieldError[] {
  return (errors ?? []).slice(0, 100).map((e) => {
    const extra = e.keyword === 'required' ? `.${String((e.params as { missingProperty: string }).missingProperty)}` : '';
    return { path: `${path}${e.instancePath.replace(/\//g, '.')}${extra}`, message: e.message ?? 'is invalid' };
  });
}

/** Compiles a schema; an invalid one is a 422 naming `path`. */
export function compileVariablesSchema(schema: Record<string, unknown>, path: string): VariablesValidator {
  let validate;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    throw new ValidationError('TEMPLATE_SCHEMA_INVALID', 'The variables schema is not a valid JSON Schema', [
      { path, message: err instanceof Error ? err.message.slice(0, 500) : 'is invalid' },
    ]);
  } finally {
    ajv.removeSchema(schema);
  }
  return (vars, at) => {
    if (!validate(vars)) {
      throw new ValidationError('TEMPLATE_VARIABLES_INVALID', "The variables do not match the template's variables schema", fieldErrors(validate.errors, at));
    }
  };
}
