/**
 * The kernel side of the load balancer: runs `nft` (Debian package `nftables`) in JSON mode
 * (`-j`), from an argument vector (never a shell). Rulesets come from src/core/lb.
 *
 * `netns`: run inside that network namespace (`ip netns exec NS nft ...`), for tests and labs.
 * Every failure rejects with HaagentError('HA_ERR_NETLINK') whose message carries nft's stderr.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HaagentError } from '../core/errors.js';
import { emptyRuleset, TABLE_FAMILY, TABLE_NAME, type TableFamily } from '../core/lb/ruleset.js';

/** Bound on one nft run: a transaction of a few rules takes milliseconds. */
export const NFT_TIMEOUT_MS = 10_000;

/** nft's message for a missing table (not `ip netns exec`'s "Cannot open network namespace ...: No such file or directory"). */
const ENOENT_TEXT = 'Error: No such file or directory';

function argv(netns: string | undefined, nftArgs: readonly string[]): [string, string[]] {
  return netns === undefined ? ['nft', [...nftArgs]] : ['ip', ['netns', 'exec', netns, 'nft', ...nftArgs]];
}

/** Runs nft; resolves with stdout, rejects HA_ERR_NETLINK naming the command and nft's stderr. */
function runNft(nftArgs: readonly string[], netns: string | undefined): Promise<string> {
  const [file, args] = argv(netns, nftArgs);
  const what = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: 'utf8', timeout: NFT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) {
        resolve(stdout);
        return;
      }
      const detail = stderr.trim().replace(/\s*\n\s*/g, ' | ');
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${file} not found (nft comes with the Debian package nftables)`
        : detail !== '' ? detail : err.message;
      reject(new HaagentError('HA_ERR_NETLINK', `${what} failed: ${reason}`, { cause: err }));
    });
    child.stdin?.end();
  });
}

/**
 * Applies a libnftables JSON document (buildRuleset/emptyRuleset) as one atomic transaction
 * (`nft -j -f FILE`). On rejection nothing of the document was applied.
 */
export async function applyRuleset(json: object, netns?: string): Promise<void> {
  // Through a private file, not stdin: nft opens "/dev/stdin", which fails with ENXIO when the
  // stdin libuv gives a child is a socket (seen from inside the agent).
  const dir = await mkdtemp(join(tmpdir(), 'haagent-nft-'));
  const file = join(dir, 'ruleset.json');
  try {
    await writeFile(file, JSON.stringify(json), { mode: 0o600 });
    await runNft(['-j', '-f', file], netns);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Applies an nft script in the text syntax (`nft -f FILE`) as one atomic transaction; on
 * rejection nothing of it was applied. For what the JSON syntax cannot say (element timeouts
 * in milliseconds: see src/core/fence/self-fence.ts).
 */
export async function applyScript(text: string, netns?: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'haagent-nft-'));
  const file = join(dir, 'ruleset.nft');
  try {
    await writeFile(file, text, { mode: 0o600 });
    await runNft(['-f', file], netns);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Removes our table and everything in it; no-op when it is absent (the transaction adds then
 * deletes the table, and a "No such file or directory" from nft is ignored too). `family`:
 * `inet` (ours), or `ip` for the table versions before the inet one used (LEGACY_TABLE_FAMILY).
 * Other tables are never named.
 */
export async function deleteTable(netns?: string, family: TableFamily = TABLE_FAMILY): Promise<void> {
  try {
    await applyRuleset(emptyRuleset(family), netns);
  } catch (err) {
    if (err instanceof HaagentError && err.message.includes(ENOENT_TEXT)) return;
    throw err;
  }
}

/** `nft -j list table inet haagent`, parsed; undefined when the table does not exist. */
export async function listTable(netns?: string): Promise<object | undefined> {
  let out: string;
  try {
    out = await runNft(['-j', 'list', 'table', TABLE_FAMILY, TABLE_NAME], netns);
  } catch (err) {
    if (err instanceof HaagentError && err.message.includes(ENOENT_TEXT)) return undefined;
    throw err;
  }
  try {
    return JSON.parse(out) as object;
  } catch (cause) {
    throw new HaagentError('HA_ERR_NETLINK', `nft -j list table ${TABLE_FAMILY} ${TABLE_NAME}: output is not JSON: ${out.slice(0, 200)}`, { cause });
  }
}
