import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino censors before a line is written. Secret-looking fields are caught at any of the
 * first three levels; nested deeper, code must not log them in the first place.
 */
const SECRET_KEYS = [
  'password',
  'passphrase',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'api_key',
  'key',
  'privateKey',
  'private_key',
  'community',
  'authKey',
  'privKey',
  'enableSecret',
  'enable_secret',
  'totp',
  'cookie',
  'authorization',
];
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
];

export interface LoggerOptions {
  level: string;
  pretty?: boolean | undefined;
  /** Where lines go; tests pass a capturing stream. */
  destination?: DestinationStream;
}

/** Sees every line the logger writes, as written (serialised and redacted). */
export type LogTap = (line: string) => void;
const taps = new WeakMap<object, Set<LogTap>>();

/**
 * Adds a tap to a logger made by `createLogger` (and so to its children); returns its removal.
 * A tap must not throw and must not log synchronously through the same logger.
 */
export function attachLogTap(logger: Logger, tap: LogTap): () => void {
  const set = taps.get(logger);
  if (!set) return () => undefined;
  set.add(tap);
  return () => set.delete(tap);
}

/** The root logger: JSON lines, redacted at the root; pretty only when asked or on a TTY. */
export function createLogger(options: LoggerOptions): Logger {
  const own = new Set<LogTap>();
  const hooks = {
    streamWrite(line: string): string {
      for (const tap of own) tap(line);
      return line;
    },
  };
  const pretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const base = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: pino.stdSerializers.err },
    hooks,
  };
  const logger = options.destination
    ? pino(base, options.destination)
    : pretty
      ? pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' } } })
      : pino(base);
  taps.set(logger, own);
  return logger;
}
