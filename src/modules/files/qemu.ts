/**
 * `qemu-img`, run with argument arrays (never a shell), on paths Opsdeck chose, with a timeout.
 * `info` never follows a backing file (qemu-img opens the image without its backing chain) and
 * `convert` names the source format, so a raw image cannot be re-probed as something else.
 */
import { execFile, spawn } from 'node:child_process';

export interface QemuInfo {
  format: string;
  virtualSize: number;
  actualSize: number | null;
  backingFile: string | null;
}

export const CONVERT_FORMATS = ['qcow2', 'raw', 'vmdk', 'vpc', 'vhdx'] as const;
export type ConvertFormat = (typeof CONVERT_FORMATS)[number];

export class QemuError extends Error {}

/** `qemu-img info --output=json` of one file. */
export function qemuInfo(file: string, timeoutMs: number, bin = 'qemu-img'): Promise<QemuInfo> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      ['info', '--output=json', file],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, shell: false },
      (err, stdout, stderr) => {
        if (err) {
          reject(new QemuError(`qemu-img info failed: ${(stderr || err.message).trim().slice(0, 500)}`));
          return;
        }
        try {
          const j = JSON.parse(stdout) as Record<string, unknown>;
          resolve({
            format: String(j.format),
            virtualSize: Number(j['virtual-size']),
            actualSize: typeof j['actual-size'] === 'number' ? j['actual-size'] : null,
            backingFile: typeof j['backing-filename'] === 'string' ? j['backing-filename'] : null,
          });
        } catch {
          reject(new QemuError('qemu-img info answered no JSON'));
        }
      },
    );
  });
}

/** The percentages in `qemu-img convert -p` output: `    (42.00/100%)`, separated by carriage returns. */
export function progressValues(text: string): number[] {
  return [...text.matchAll(/\((\d{1,3}(?:\.\d+)?)\/100%\)/g)].map((m) => Number(m[1]));
}

/** `qemu-img convert -p -f <from> -O <to> src dst`, reporting whole percentages; the signal kills it. */
export function qemuConvert(
  input: { src: string; from: string; dst: string; to: ConvertFormat; signal: AbortSignal; onProgress: (percent: number) => void },
  bin = 'qemu-img',
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['convert', '-p', '-f', input.from, '-O', input.to, input.src, input.dst], {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: input.signal,
      killSignal: 'SIGKILL',
    });
    let last = -1;
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      for (const p of progressValues(text)) {
        const whole = Math.floor(p);
        if (whole > last) {
          last = whole;
          input.onProgress(whole);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-2000)));
    child.on('error', (err) => reject(input.signal.aborted ? new QemuError('conversion cancelled') : new QemuError(`qemu-img convert failed: ${err.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new QemuError(`qemu-img convert failed (${code}): ${stderr.trim().slice(0, 500)}`))));
  });
}
