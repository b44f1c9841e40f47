/**
 * The benchmark's small HTTP load generator (used when `wrk` is not installed, and for the split
 * check of each load-balancer mode). Run in the client namespace:
 *
 *   node dist/test/bench/loadgen.js URL CONCURRENCY DURATION_MS [MAX_REQUESTS [LOCAL_ADDRESS]]
 *
 * CONCURRENCY workers each send GET URL one after the other, a new connection per request
 * (keep-alive off, `connection: close`), until DURATION_MS has passed (or MAX_REQUESTS have been
 * started in all). Prints one JSON line: requests, errors, elapsed ms, requests per second, p50 /
 * p99 / max latency (ms) of the successful requests, and the count of answers per body (the lab's
 * web servers answer their host name).
 */
import { request } from 'node:http';
import { pathToFileURL } from 'node:url';

export interface LoadgenResult {
  readonly requests: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly bodies: Record<string, number>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

function once(url: URL, timeoutMs: number, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port === '' ? 80 : Number(url.port), path: url.pathname, method: 'GET',
      agent: false, headers: { connection: 'close' }, timeout: timeoutMs, ...(localAddress === undefined ? {} : { localAddress }),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 400) reject(new Error(`HTTP ${res.statusCode ?? '?'}`));
        else resolve(body.trim());
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** `localAddress`: the source address of every connection (default: the kernel's choice). */
export async function loadgen(url: URL, concurrency: number, durationMs: number, maxRequests = Infinity, localAddress?: string): Promise<LoadgenResult> {
  const latencies: number[] = [];
  const bodies: Record<string, number> = {};
  let errors = 0;
  let started = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end && started < maxRequests) {
      started++;
      const s = performance.now();
      try {
        const body = await once(url, 2000, localAddress);
        latencies.push(performance.now() - s);
        bodies[body] = (bodies[body] ?? 0) + 1;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    requests: latencies.length + errors,
    errors,
    elapsedMs: Math.round(elapsedMs),
    rps: Math.round((latencies.length / elapsedMs) * 1000 * 10) / 10,
    p50Ms: r3(percentile(latencies, 50)),
    p99Ms: r3(percentile(latencies, 99)),
    maxMs: r3(latencies[latencies.length - 1] ?? NaN),
    bodies,
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const [urlText, conc, dur, max, local] = process.argv.slice(2);
  if (urlText === undefined || conc === undefined || dur === undefined) {
    process.stderr.write('usage: loadgen.js URL CONCURRENCY DURATION_MS [MAX_REQUESTS [LOCAL_ADDRESS]]\n');
    process.exit(2);
  }
  loadgen(new URL(urlText), Number(conc), Number(dur), max === undefined ? Infinity : Number(max), local).then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }, (e: unknown) => {
    process.stderr.write(`loadgen: ${String(e)}\n`);
    process.exit(1);
  });
}
