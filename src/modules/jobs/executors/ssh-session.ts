import { createHash } from 'node:crypto';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { ResolvedCredential } from '../credentials.js';
import { linearMatches } from '../../../platform/linear-regex.js';

export interface SshOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** Pin the host key (SHA-256 of the key blob, base64) for this connection only. */
  hostKeySha256?: string;
  /** Without an explicit pin: trust on first use. Null accepts the key; a string refuses it with that reason. */
  hostKeyCheck?: (fingerprint: string) => Promise<string | null>;
  credential: ResolvedCredential;
  signal: AbortSignal;
  onHostKey?: (fingerprint: string) => void;
}

/** Connects and authenticates; the connection closes when the signal aborts. */
export function connect(o: SshOptions): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let fingerprint = '';
    let refused: string | null = null;
    const config: ConnectConfig = {
      host: o.host,
      port: o.port,
      username: o.credential.username ?? '',
      readyTimeout: o.connectTimeoutMs,
      keepaliveInterval: 10_000,
      // Two parameters: ssh2 waits for the callback, so the pin can be looked up asynchronously.
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        fingerprint = createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
        if (o.hostKeySha256 !== undefined) return verify(o.hostKeySha256.replace(/^SHA256:/, '').replace(/=+$/, '') === fingerprint);
        if (!o.hostKeyCheck) return verify(true);
        o.hostKeyCheck(fingerprint).then(
          (reason) => {
            refused = reason;
            verify(reason === null);
          },
          (err: unknown) => {
            refused = `the host key could not be checked: ${err instanceof Error ? err.message : String(err)}`;
            verify(false);
          },
        );
      },
      ...(o.credential.password !== undefined ? { password: o.credential.password, tryKeyboard: true } : {}),
      ...(o.credential.privateKey ? { privateKey: o.credential.privateKey, ...(o.credential.passphrase ? { passphrase: o.credential.passphrase } : {}) } : {}),
    };
    if (o.credential.password !== undefined) {
      client.on('keyboard-interactive', (_n, _i, _l, prompts, finish) => finish(prompts.map(() => o.credential.password ?? '')));
    }
    const abort = () => client.end();
    o.signal.addEventListener('abort', abort, { once: true });
    client.once('ready', () => {
      o.onHostKey?.(fingerprint);
      resolve(client);
    });
    client.once('error', (err) => {
      o.signal.removeEventListener('abort', abort);
      if (refused !== null) return reject(new Error(refused));
      reject(
        o.hostKeySha256 && fingerprint && err.message.includes('verification')
          ? new Error(`host key SHA256:${fingerprint} does not match the pinned key`)
          : err,
      );
    });
    client.once('close', () => o.signal.removeEventListener('abort', abort));
    client.connect(config);
  });
}

/** Runs one command on an exec channel. */
export function execCommand(
  client: Client,
  command: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      const timer = setTimeout(() => {
        stream.close();
        reject(new Error(`'${command}' did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      const abort = () => stream.close();
      signal.addEventListener('abort', abort, { once: true });
      stream.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      stream.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      stream.on('exit', (c: number | null) => (code = c));
      stream.on('close', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        resolve({ stdout, stderr, code });
      });
    });
  });
}

const PROMPT = /(?:^|\n)([A-Za-z0-9_.\-/:()]{1,64})([>#])[ \t]*$/;
const MORE = /\s*(?:--\s*More\s*--|<--- More --->|-- more --)\s*$/i;
const PASSWORD = /(?:^|\n)\s*Password:\s*$/i;

/** What `read` looks for at the end of the buffer: a RegExp, or a user's RE2 prompt (`linearPrompt`). */
interface TailPattern {
  exec(text: string): { [group: number]: string | undefined } | null;
}

/**
 * A platform profile's prompt (RE2, e.g. Junos `user@host>`), matched in linear time so a
 * user-defined profile cannot stall the worker; the match is the prompt.
 */
function linearPrompt(pattern: string): TailPattern {
  return {
    exec(text) {
      const m = linearMatches(pattern, text, 1)[0];
      return m ? { 0: m.groups[0] ?? '' } : null;
    },
  };
}

/** A CLI session on a network device's interactive shell: prompts, paging, enable mode. */
export class DeviceShell {
  private buffer = '';
  private waiter: (() => void) | null = null;
  private closed = false;
  prompt = '';

  private constructor(
    private readonly stream: ClientChannel,
    private readonly signal: AbortSignal,
    private readonly promptPattern: TailPattern,
  ) {
    stream.on('data', (c: Buffer) => {
      this.buffer += c.toString('utf8');
      this.waiter?.();
    });
    stream.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  /** `prompt`: an RE2 pattern for platforms whose prompt is not `name>` / `name#` (a platform profile's `prompt`). */
  static open(client: Client, signal: AbortSignal, opts: { prompt?: string | undefined } = {}): Promise<DeviceShell> {
    const prompt = opts.prompt ? linearPrompt(opts.prompt) : PROMPT;
    return new Promise((resolve, reject) => {
      client.shell({ term: 'vt100', cols: 511, rows: 24 }, (err, stream) => (err ? reject(err) : resolve(new DeviceShell(stream, signal, prompt))));
    });
  }

  /** Waits until the buffer's tail matches one of the patterns; answers --More-- pages on the way. */
  private async read(patterns: TailPattern[], timeoutMs: number): Promise<{ text: string; match: { [group: number]: string | undefined }; index: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (MORE.test(this.buffer)) {
        this.buffer = this.buffer.replace(MORE, '\n');
        this.stream.write(' ');
      }
      for (let i = 0; i < patterns.length; i++) {
        const m = patterns[i]!.exec(this.buffer);
        if (m) {
          const text = this.buffer;
          this.buffer = '';
          return { text, match: m, index: i };
        }
      }
      if (this.signal.aborted) throw this.signal.reason instanceof Error ? this.signal.reason : new Error('aborted');
      if (this.closed) throw new Error('the device closed the session');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no prompt within ${timeoutMs} ms (last output: ${JSON.stringify(this.buffer.slice(-80))})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        const onAbort = () => resolve();
        this.signal.addEventListener('abort', onAbort, { once: true });
        this.waiter = () => {
          clearTimeout(timer);
          this.signal.removeEventListener('abort', onAbort);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  async waitPrompt(timeoutMs: number): Promise<string> {
    const r = await this.read([this.promptPattern], timeoutMs);
    this.prompt = promptOf(r.match);
    return r.text;
  }

  get privileged(): boolean {
    return this.prompt.endsWith('#');
  }

  async enable(secret: string | undefined, timeoutMs: number): Promise<void> {
    if (this.privileged) return;
    this.stream.write('enable\n');
    const r = await this.read([PASSWORD, this.promptPattern], timeoutMs);
    if (r.index === 0) {
      this.stream.write(`${secret ?? ''}\n`);
      await this.waitPrompt(timeoutMs);
    } else {
      this.prompt = promptOf(r.match);
    }
    if (!this.privileged) throw new Error('enable failed: still not in privileged mode (check the enable secret)');
  }

  /** Sends a command and returns its output without the echo and the trailing prompt. */
  async run(command: string, timeoutMs: number): Promise<string> {
    this.stream.write(`${command}\n`);
    const text = await this.waitPrompt(timeoutMs);
    return cleanOutput(text, command);
  }

  close(): void {
    this.stream.end('exit\n');
    this.stream.close();
  }
}

/** `name#` from the built-in pattern's groups; a profile's pattern: the whole match, trimmed. */
function promptOf(match: { [group: number]: string | undefined }): string {
  return match[2] !== undefined ? `${match[1]}${match[2]}` : (match[0] ?? '').trim();
}

export function cleanOutput(text: string, command: string): string {
  /* eslint-disable no-control-regex -- backspaces and ANSI escapes are what is removed */
  let out = text
    .replace(/\r/g, '')
    .replace(/[^\n]\x08/g, '')
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  /* eslint-enable no-control-regex */
  const lines = out.split('\n');
  if (lines[0]?.trim().endsWith(command.trim())) lines.shift();
  lines.pop(); // the prompt
  out = lines.join('\n');
  return out.replace(/\n+$/, '');
}
