/**
 * Jobs bench (b) reader thread: a share of the WebSocket subscribers, each checking order and
 * recording per-line delivery latency (receive time − the emitter's timestamp in the line).
 * Readers run in a few threads, as separate clients would: one isolate for all 100 spent more
 * time in its own garbage collection than the server took to deliver.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

export interface ReaderTask {
  wsUrl: string;
  /** Sent as `Authorization: Bearer` at the upgrade. */
  token: string;
  channel: string;
  subs: number;
  /** One more subscriber that stops reading 2 s in, until released or closed by the server. */
  stalled: boolean;
  lines: number;
}

export interface ReaderResult {
  kind: 'done' | 'stalled';
  lat: Float64Array;
  inOrder: boolean;
  closed: number | null;
  lines: number;
}

const task = workerData as ReaderTask;
const now = () => performance.timeOrigin + performance.now();
/** A line of a log frame: its sequence number, and the emitter's timestamp when it is one of its lines. */
const LINE = /"seq":(\d+),[^{}]*?"message":"(?:t=([\d.]+) i=\d+)?/g;
const post = (r: ReaderResult) => parentPort!.postMessage(r, [r.lat.buffer as ArrayBuffer]);

function subscribe(isStalled: boolean): void {
  const ws = new WebSocket(task.wsUrl, { headers: { authorization: `Bearer ${task.token}` } });
  // Typed arrays and a running order check: no per-line garbage in the readers.
  const lat = new Float64Array(task.lines);
  let lastSeq = 0;
  let inOrder = true;
  let lines = 0;
  let reported = false;
  const report = (closed: number | null) => {
    if (reported) return;
    reported = true;
    post({ kind: isStalled ? 'stalled' : 'done', lat: lat.slice(0, Math.min(lines, lat.length)), inOrder, closed, lines });
  };
  if (isStalled) {
    parentPort!.on('message', (m: string) => {
      if (m !== 'release') return;
      report(-1);
      ws.terminate();
    });
  }
  ws.on('message', (raw: Buffer) => {
    const text = raw.toString();
    if (text.startsWith('{"type":"log"')) {
      // Log frames (nearly all of them) are scanned, not parsed: a JSON.parse per frame per
      // subscriber made the readers the busiest thing on the machine.
      const t = now();
      LINE.lastIndex = 0;
      for (let m = LINE.exec(text); m; m = LINE.exec(text)) {
        const seq = Number(m[1]);
        if (seq !== lastSeq + 1) inOrder = false;
        lastSeq = seq;
        if (m[2] !== undefined) {
          if (lines < lat.length) lat[lines] = t - Number(m[2]);
          lines++;
        }
      }
      return;
    }
    const msg = JSON.parse(text) as { type: string };
    if (msg.type === 'ready') {
      ws.send(JSON.stringify({ type: 'subscribe', channel: task.channel }));
      if (isStalled) setTimeout(() => (ws as unknown as { _socket: { pause(): void } })._socket.pause(), 2000);
    }
    if (msg.type === 'end') {
      ws.close();
      report(null);
    }
  });
  ws.on('close', (code) => report(code));
}

for (let k = 0; k < task.subs; k++) subscribe(false);
if (task.stalled) subscribe(true);
