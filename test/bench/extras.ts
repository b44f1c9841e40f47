/**
 * The bench parts beyond failover and load balancing, behind one small hook in run.ts: the
 * self-fence comparison (fence.ts) and the timer soak under CPU saturation (soak.ts). Their
 * options are taken out of the command line here before run.ts parses the rest:
 *   --fence            only this part (with --soak: only these two)
 *   --no-fence         skip it
 *   --fence-runs N     runs per mode and fault (default 3)
 *   --fence-packets N  packets per CPU-cost round (default 200000)
 *   --fence-backup-priority auto|N  self-fence-backup-priority of the fenced mode (default 100:
 *                      the lab's backup runs with priority 100; auto = any backup, 254)
 *   --fence-paths      the fenced mode's agents hello over ext0, so auto learns the priority
 *   --soak, --no-soak, --soak-duration SECONDS (default 600), --soak-busy N (busy loops,
 *                      default 2 per CPU), --soak-interval MS (default 10)
 * Without --fence/--soak every part runs (both after the others), except with --lb (only that part).
 */
import { cpus } from 'node:os';
import { FenceBench, fenceJson, printFence, type FenceReport } from './fence.js';
import { SoakBench, soakJson, printSoak, type SoakReport } from './soak.js';

export interface ExtraOptions {
  /** --fence or --soak given: the failover and load-balancer parts are skipped. */
  readonly only: boolean;
  readonly fence: boolean;
  readonly fenceRuns: number;
  readonly fencePackets: number;
  /** self-fence-backup-priority of the fenced mode: 'auto' or 1..254. */
  readonly fenceBackupPriority: 'auto' | number;
  readonly fencePaths: boolean;
  readonly soak: boolean;
  readonly soakDurationS: number;
  readonly soakBusy: number;
  readonly soakIntervalMs: number;
}

/** Takes this file's options out of `argv`; returns them and what is left for run.ts. */
export function takeExtraOptions(argv: readonly string[]): { extras: ExtraOptions; rest: string[] } {
  const rest: string[] = [];
  let onlyFence = false;
  let onlySoak = false;
  let noFence = false;
  let noSoak = false;
  let fenceRuns = 3;
  let fencePackets = 200_000;
  let fenceBackupPriority: 'auto' | number = 100;
  let fencePaths = false;
  let soakDurationS = 600;
  let soakBusy = 2 * cpus().length;
  let soakIntervalMs = 10;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!(Number.isFinite(v) && v > 0)) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--fence') onlyFence = true;
    else if (a === '--no-fence') noFence = true;
    else if (a === '--fence-runs') fenceRuns = Math.round(num());
    else if (a === '--fence-packets') fencePackets = Math.round(num());
    else if (a === '--fence-paths') fencePaths = true;
    else if (a === '--fence-backup-priority') {
      const v = argv[++i];
      fenceBackupPriority = v === 'auto' ? 'auto' : Number(v);
      if (fenceBackupPriority !== 'auto' && !(Number.isInteger(fenceBackupPriority) && fenceBackupPriority >= 1 && fenceBackupPriority <= 254)) {
        throw new Error(`${a} needs auto or an integer 1..254`);
      }
    }
    else if (a === '--soak') onlySoak = true;
    else if (a === '--no-soak') noSoak = true;
    else if (a === '--soak-duration') soakDurationS = num();
    else if (a === '--soak-busy') soakBusy = Math.round(num());
    else if (a === '--soak-interval') soakIntervalMs = Math.round(num());
    else rest.push(a);
  }
  const only = onlyFence || onlySoak;
  // run.ts: --lb, --pg, --conntrack, --etcd and --scale-only each run only their own part.
  const lbOnly = ['--lb', '--pg', '--conntrack', '--etcd', '--scale-only'].some((f) => rest.includes(f));
  return {
    rest,
    extras: {
      only, fence: only ? onlyFence : !noFence && !lbOnly, fenceRuns, fencePackets, fenceBackupPriority, fencePaths,
      soak: only ? onlySoak : !noSoak && !lbOnly, soakDurationS, soakBusy, soakIntervalMs,
    },
  };
}

export interface ExtraReport {
  readonly fence?: FenceReport;
  readonly soak?: SoakReport;
}

/** Runs the selected parts; a part that fails is reported and skipped, the others still run. */
export async function runExtras(o: ExtraOptions, say: (l: string) => void, keepalived: boolean): Promise<ExtraReport> {
  let fence: FenceReport | undefined;
  let soak: SoakReport | undefined;
  if (o.fence) {
    const b = new FenceBench({ runs: o.fenceRuns, packets: o.fencePackets, backupPriority: o.fenceBackupPriority, paths: o.fencePaths }, say);
    try { fence = await b.run(); } catch (e) { say(`fence: FAILED: ${e instanceof Error ? e.message : String(e)}`); } finally { await b.cleanup(); }
  }
  if (o.soak) {
    const b = new SoakBench({ durationS: o.soakDurationS, busy: o.soakBusy, intervalMs: o.soakIntervalMs, keepalived }, say);
    try { soak = await b.run(); } catch (e) { say(`soak: FAILED: ${e instanceof Error ? e.message : String(e)}`); } finally { await b.cleanup(); }
  }
  return { ...(fence === undefined ? {} : { fence }), ...(soak === undefined ? {} : { soak }) };
}

export function printExtras(r: ExtraReport, out: (l: string) => void): void {
  if (r.fence !== undefined) printFence(r.fence, out);
  if (r.soak !== undefined) printSoak(r.soak, out);
}

export function extrasJson(r: ExtraReport): Record<string, unknown> {
  return { ...(r.fence === undefined ? {} : { fence: fenceJson(r.fence) }), ...(r.soak === undefined ? {} : { soak: soakJson(r.soak) }) };
}
