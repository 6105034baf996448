import { AppError, ValidationError } from '../../../platform/errors.js';

/**
 * A template the reference TextFSM would reject (or that uses a regex construct JavaScript cannot
 * express). `message` is the reference implementation's own wording, so users can search for it;
 * `line` is the 1-based template line when the reference names one; `detail` adds the regex
 * compiler's explanation where the reference only says "Invalid regular expression".
 */
export class TemplateError extends ValidationError {
  constructor(
    message: string,
    readonly line: number | null,
    readonly detail: string | null = null,
    code = 'PARSER_TEMPLATE_INVALID',
    readonly template: string | null = null,
  ) {
    super(code, message, [{ path: line === null ? 'template' : `template:${line}`, message: detail ?? message }]);
    this.name = 'TemplateError';
  }
}

/** The input reached an `Error` rule (or could not be processed); no records are returned. */
export class TextFsmError extends ValidationError {
  constructor(
    message: string,
    readonly ruleLine: number | null = null,
  ) {
    super('PARSER_TEXT_REJECTED', message);
    this.name = 'TextFsmError';
  }
}

/** Lookup failures from the index layer (clitable's CliTableError). */
export class TemplateNotFoundError extends AppError {
  constructor(message: string) {
    super('PARSER_TEMPLATE_NOT_FOUND', 404, message);
    this.name = 'TemplateNotFoundError';
  }
}
