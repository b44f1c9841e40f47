/**
 * The lab's client probe: GET http://<target>/ in a loop, one request at a time, each with a
 * short timeout, and print one JSON line per result: {"t": ms since start, "ok": bool,
 * "host"?: answer, "error"?: code}. Run inside the client namespace:
 * `node probe.js <target> [intervalMs] [timeoutMs]`. Stops on SIGTERM or after 10 minutes.
 */
import { request } from 'node:http';

const target = process.argv[2] ?? '127.0.0.1';
const intervalMs = Number(process.argv[3] ?? 10);
const timeoutMs = Number(process.argv[4] ?? 100);
const t0 = performance.now();
const deadline = t0 + 600_000;

function once(): Promise<{ ok: boolean; host?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: target, port: 80, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ ok: true, host: body.trim() }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message }));
    });
    req.on('timeout', () => { req.destroy(); resolve({ ok: false, error: 'TIMEOUT' }); });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message }));
    req.end();
  });
}

let stop = false;
process.on('SIGTERM', () => { stop = true; });
while (!stop && performance.now() < deadline) {
  const r = await once();
  process.stdout.write(`${JSON.stringify({ t: Math.round(performance.now() - t0), ...r })}\n`);
  await new Promise((res) => setTimeout(res, intervalMs));
}
process.exit(0);
