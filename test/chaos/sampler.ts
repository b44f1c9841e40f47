/**
 * What the chaos run watches while a fault is on, on the harness clock (performance.now()):
 *   - every 20 ms, the VIP on both hosts' ext0 (both asked in the same tick, through IpBatch);
 *   - every 20 ms, each agent's state from its control socket (a frozen or dead agent does not
 *     answer: its samples are `null`, never a stale MASTER).
 * The analysis (overlaps, timeline, settle time) is pure and works on the recorded series.
 */
import type { RunningAgent } from '../../src/lab/cluster.js';
import { requestStatus } from '../../src/daemon/control-server.js';
import { IpBatch } from './ipbatch.js';

export type HostName = 'h1' | 'h2';
export const HOSTS: readonly HostName[] = ['h1', 'h2'];

export interface VipSample {
  readonly t: number;
  /** null: the read failed. */
  readonly vip: boolean | null;
  /** valid_lft of the VIP in seconds (4294967295 = forever), when present. */
  readonly lft?: number;
}

export interface StateSample {
  readonly t: number;
  /** null: no answer (agent dead, frozen, or socket gone). */
  readonly state: string | null;
}

export interface Series {
  readonly vip: Record<HostName, VipSample[]>;
  readonly state: Record<HostName, StateSample[]>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface AddrJson { addr_info?: Array<{ local?: string; prefixlen?: number; valid_life_time?: number }> }

/** Parses one `ip -j addr show dev ext0` answer: is `vip` there, and its lifetime. */
export function parseVip(json: string, vip: string): { vip: boolean; lft?: number } {
  const parsed = JSON.parse(json) as AddrJson[];
  const a = parsed[0]?.addr_info?.find((i) => i.local === vip);
  if (a === undefined) return { vip: false };
  return a.valid_life_time === undefined ? { vip: true } : { vip: true, lft: a.valid_life_time };
}

export class Sampler {
  readonly series: Series = { vip: { h1: [], h2: [] }, state: { h1: [], h2: [] } };
  private running = false;
  private loops: Array<Promise<void>> = [];
  private readonly batches: Record<HostName, IpBatch>;

  constructor(
    namespaces: Record<HostName, string>,
    private readonly agents: Record<HostName, RunningAgent>,
    private readonly vip: string,
    private readonly periodMs = 20,
  ) {
    this.batches = { h1: new IpBatch(namespaces.h1), h2: new IpBatch(namespaces.h2) };
  }

  /** ip processes started over the run (2 when none ever timed out). */
  get ipStarts(): number {
    return this.batches.h1.starts + this.batches.h2.starts;
  }

  async readVip(host: HostName, timeoutMs = 500): Promise<VipSample> {
    const line = await this.batches[host].query('addr show dev ext0', timeoutMs);
    const t = performance.now();
    if (line === undefined) return { t, vip: null };
    try {
      return { t, ...parseVip(line, this.vip) };
    } catch {
      return { t, vip: null };
    }
  }

  async readState(host: HostName, timeoutMs = 150): Promise<StateSample> {
    try {
      const s = await requestStatus(this.agents[host].socket, timeoutMs);
      return { t: performance.now(), state: s.instances[0]?.state ?? null };
    } catch {
      return { t: performance.now(), state: null };
    }
  }

  start(): void {
    this.running = true;
    this.loops = [
      this.loop(async () => {
        const [a, b] = await Promise.all([this.readVip('h1'), this.readVip('h2')]);
        this.series.vip.h1.push(a);
        this.series.vip.h2.push(b);
      }),
      ...HOSTS.map((h) => this.loop(async () => { this.series.state[h].push(await this.readState(h)); })),
    ];
  }

  private async loop(tick: () => Promise<void>): Promise<void> {
    while (this.running) {
      const next = performance.now() + this.periodMs;
      await tick();
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  close(): void {
    this.running = false;
    for (const h of HOSTS) this.batches[h].close();
  }
}

// ---------------------------------------------------------------- analysis (pure)

/** Latest sample at or before each (increasing) query time, if not older than `maxAgeMs`. */
class Cursor<S extends { readonly t: number }> {
  private i = -1;
  constructor(private readonly xs: readonly S[], private readonly maxAgeMs: number) {}
  at(t: number): S | undefined {
    while (this.i + 1 < this.xs.length && (this.xs[this.i + 1] as S).t <= t) this.i++;
    const s = this.xs[this.i];
    return s !== undefined && t - s.t <= this.maxAgeMs ? s : undefined;
  }
}

/** How old a sample may be and still describe the present (a few missed ticks). */
export const VIP_MAX_AGE_MS = 100;
export const STATE_MAX_AGE_MS = 100;

export interface Overlaps {
  /** ms during which both hosts held the VIP on ext0. */
  readonly dualVipMs: number;
  /** ms during which both agents answered MASTER. */
  readonly dualMasterMs: number;
  /** Share of the window where both hosts' VIP samples were fresh (sampler kept up). */
  readonly vipCoverage: number;
  /** ms during which no host held the VIP (with fresh samples on both). */
  readonly noVipMs: number;
}

export function overlaps(s: Series, fromT: number, toT: number, gridMs = 5): Overlaps {
  const v1 = new Cursor(s.vip.h1, VIP_MAX_AGE_MS);
  const v2 = new Cursor(s.vip.h2, VIP_MAX_AGE_MS);
  const s1 = new Cursor(s.state.h1, STATE_MAX_AGE_MS);
  const s2 = new Cursor(s.state.h2, STATE_MAX_AGE_MS);
  let dualVip = 0;
  let dualMaster = 0;
  let noVip = 0;
  let known = 0;
  let total = 0;
  for (let g = fromT; g < toT; g += gridMs) {
    total++;
    const a = v1.at(g)?.vip;
    const b = v2.at(g)?.vip;
    if (typeof a === 'boolean' && typeof b === 'boolean') {
      known++;
      if (a && b) dualVip += gridMs;
      if (!a && !b) noVip += gridMs;
    }
    if (s1.at(g)?.state === 'MASTER' && s2.at(g)?.state === 'MASTER') dualMaster += gridMs;
  }
  return { dualVipMs: dualVip, dualMasterMs: dualMaster, vipCoverage: total === 0 ? 1 : known / total, noVipMs: noVip };
}

/**
 * "Clean": exactly one host holds the VIP, it answers MASTER, and the other does not answer
 * MASTER. Returns the ms after `fromT` from which the state stayed clean until `toT`, or
 * undefined when it was not clean at the end.
 */
export function cleanAfter(s: Series, fromT: number, toT: number, gridMs = 5): number | undefined {
  const v = { h1: new Cursor(s.vip.h1, VIP_MAX_AGE_MS), h2: new Cursor(s.vip.h2, VIP_MAX_AGE_MS) };
  const st = { h1: new Cursor(s.state.h1, STATE_MAX_AGE_MS), h2: new Cursor(s.state.h2, STATE_MAX_AGE_MS) };
  let cleanSince: number | undefined;
  for (let g = fromT; g < toT; g += gridMs) {
    const vip = { h1: v.h1.at(g)?.vip, h2: v.h2.at(g)?.vip };
    const state = { h1: st.h1.at(g)?.state, h2: st.h2.at(g)?.state };
    const holders = HOSTS.filter((h) => vip[h] === true);
    const unknown = HOSTS.some((h) => typeof vip[h] !== 'boolean');
    const holder = holders[0];
    const clean = !unknown && holders.length === 1 && holder !== undefined && state[holder] === 'MASTER'
      && HOSTS.every((h) => h === holder || state[h] !== 'MASTER');
    if (clean) cleanSince ??= g;
    else cleanSince = undefined;
  }
  return cleanSince === undefined ? undefined : Math.max(0, Math.round(cleanSince - fromT));
}

/** Changes of VIP holding and agent state, in time order, relative to `zeroT`. */
export function timeline(s: Series, zeroT: number, fromT: number, toT: number): string[] {
  type Ev = { t: number; text: string };
  const evs: Ev[] = [];
  for (const h of HOSTS) {
    let last: string | undefined;
    for (const x of s.vip[h]) {
      if (x.t < fromT || x.t > toT || x.vip === null) continue;
      const now = x.vip ? 'VIP+' : 'VIP-';
      if (now !== last) evs.push({ t: x.t, text: `${h} ${now}${x.vip && x.lft !== undefined && x.lft < 4294967295 ? ` (lft ${x.lft}s)` : ''}` });
      last = now;
    }
    let lastState: string | undefined;
    for (const x of s.state[h]) {
      if (x.t < fromT || x.t > toT) continue;
      const now = x.state ?? 'no-answer';
      if (now !== lastState) evs.push({ t: x.t, text: `${h} ${now}` });
      lastState = now;
    }
  }
  evs.sort((a, b) => a.t - b.t);
  return evs.map((e) => `${e.t - zeroT >= 0 ? '+' : ''}${Math.round(e.t - zeroT)} ms ${e.text}`);
}

/** Samples per second actually taken over a window, per series (sampler overhead check). */
export function sampleRate(s: Series, fromT: number, toT: number): { vip: number; state: number } {
  const secs = Math.max(0.001, (toT - fromT) / 1000);
  const n = (xs: ReadonlyArray<{ t: number }>): number => xs.filter((x) => x.t >= fromT && x.t <= toT).length;
  return { vip: n(s.vip.h1) / secs, state: (n(s.state.h1) + n(s.state.h2)) / 2 / secs };
}
