import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** Loopback peers of notification tests: an HTTP receiver and an SMTP server (user `alerts`, password `smtp-pass-123`). */
export interface Received {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A loopback HTTP receiver: answers the queued statuses (echoing the Authorization header, to prove the log masks it), then 200. */
export async function startReceiver() {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      const status = statuses.shift() ?? 200;
      res.writeHead(status).end(status === 200 ? 'ok' : `refused ${String(req.headers.authorization ?? '')} ${req.url ?? ''}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://hooks.test:${(server.address() as AddressInfo).port}`,
    received,
    fail: (...codes: number[]) => statuses.push(...codes),
    async waitFor(pred: (r: Received) => boolean, count = 1, ms = 15_000): Promise<Received[]> {
      const until = Date.now() + ms;
      while (received.filter(pred).length < count) {
        if (Date.now() > until) throw new Error(`receiver got ${received.length} requests: ${received.map((r) => r.url).join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return received.filter(pred);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function startSmtp() {
  const mails: { from: string; to: string[]; data: string; user: string | undefined }[] = [];
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'alerts' && auth.password === 'smtp-pass-123') cb(null, { user: auth.username });
      else cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString('utf8')));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
