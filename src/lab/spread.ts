/**
 * The lab's request spreader: N sequential GETs to a URL, each on a new connection with a 1 s
 * timeout, then ONE JSON line: {"<answering host>": count, ..., "failed"?: count}. Run inside
 * the client namespace: `node spread.js <url> <n>`. Shows how a load balancer split requests.
 */
const url = process.argv[2] ?? 'http://127.0.0.1/';
const n = Number(process.argv[3] ?? 10);
const out: Record<string, number> = {};
for (let i = 0; i < n; i++) {
  let key: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000), headers: { connection: 'close' } });
    key = (await res.text()).trim();
  } catch {
    key = 'failed';
  }
  out[key] = (out[key] ?? 0) + 1;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
