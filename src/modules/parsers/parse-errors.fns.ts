import { AppError } from '../../platform/errors.js';
import { TemplateError, TemplateNotFoundError, TextFsmError } from './textfsm/textfsm.errors.js';

/** Errors cross the worker boundary as plain data and are rebuilt with their class and code. */
export interface SerializedError {
  name: string;
  code: string | null;
  status: number | null;
  message: string;
  line: number | null;
  detail: string | null;
}

export function serializeError(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    name: e.name,
    code: e instanceof AppError ? e.code : null,
    status: e instanceof AppError ? e.status : null,
    message: e.message,
    line: e instanceof TemplateError ? e.line : e instanceof TextFsmError ? e.ruleLine : null,
    detail: e instanceof TemplateError ? e.detail : null,
  };
}

export function deserializeError(s: SerializedError): Error {
  if (s.name === 'TemplateError') return new TemplateError(s.message, s.line, s.detail, s.code ?? undefined);
  if (s.name === 'TextFsmError') return new TextFsmError(s.message, s.line);
  if (s.name === 'TemplateNotFoundError') return new TemplateNotFoundError(s.message);
  if (s.code !== null && s.status !== null) return new AppError(s.code, s.status, s.message);
  const err = new Error(s.message);
  err.name = s.name;
  return err;
}
