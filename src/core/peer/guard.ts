/**
 * The peer guard of one instance: what this node knows of its haagent peers (hellos on every
 * path, VRRP adverts, the witness verdict) and the decisions taken from it, as pure functions of
 * their inputs and `nowMs`. The daemon (src/daemon/instance-peers.ts) and the simulation
 * (test/sim/paths-world.ts) both call these and carry out the effects they return, so the
 * simulation runs the same decisions the agent does.
 *
 * The guard state is mutated in place (the peer table, the last VRRP time, the isolated flag,
 * the per-node config mismatches); nothing else is touched. Effects come back as plain data, in
 * the order the caller must carry them out:
 * - `observe-epoch`: a peer's fencing epoch to observe (it may raise ours);
 * - `input`: an input for the state machine (a MASTER's hello as its advert, or the 'isolated'
 *   fault on/off);
 * - `config-mismatch` / `config-match`: a peer's config fingerprint differs from ours (once per
 *   peer and fingerprint), or matches again;
 * - `isolation`: the isolated verdict changed (log and publish `detail`); always followed by the
 *   `input` of the fault.
 *
 * Not done here: decoding and authenticating hellos (hello.ts), checking that a hello is for this
 * instance and from the path's configured peer (the peer link), and the witness probes themselves
 * (the caller passes their verdict).
 */
import type { InstanceStatus } from '../control/types.js';
import type { AdvertInput, Input } from '../fsm/types.js';
import type { Hello } from './hello.js';
import {
  emptyPeerTable, expirePeers, maxEpochSeen, notePeer, peerExpiryMs, peersHeardSince, type NoteRejectReason, type PeerTable,
} from './presence.js';
import { acceptPeerEpoch, helloAsAdvert, isIsolated } from './rules.js';
import { guardTiming, type GuardTiming } from './timing.js';

/** The decision rules the guard applies; the simulation swaps them for broken variants. */
export interface GuardRules {
  readonly acceptPeerEpoch: typeof acceptPeerEpoch;
  readonly helloAsAdvert: typeof helloAsAdvert;
  readonly isIsolated: typeof isIsolated;
}

export const GUARD_RULES: GuardRules = Object.freeze({ acceptPeerEpoch, helloAsAdvert, isIsolated });

/** Log text of the isolation verdict changes. */
export const ISOLATED_DETAIL = 'isolated: no peer on any path and no witness reachable; not holding the VIP';
export const NOT_ISOLATED_DETAIL = 'no longer isolated';

export interface PeerGuard {
  readonly table: PeerTable;
  /** Monotonic ms of the last accepted VRRP advert, from any sender (-Infinity = never). */
  lastVrrpRxMs: number;
  /** The verdict last acted on (the 'isolated' fault is active iff true). */
  isolated: boolean;
  /** Our config fingerprint, sent in hellos and compared with theirs; replaced on a VIP reload. */
  fingerprint: string;
  /** Peers whose fingerprint differs from ours: node -> their fingerprint (reported once each). */
  readonly mismatches: Map<string, string>;
  /** Without a witness the isolation rule is off (a lone survivor must take over). */
  readonly witnessConfigured: boolean;
  readonly timing: GuardTiming;
  readonly rules: GuardRules;
}

export interface GuardOptions {
  readonly advertIntervalCs: number;
  readonly fingerprint: string;
  readonly witnessConfigured: boolean;
  /** Default: guardTiming(advertIntervalCs). */
  readonly timing?: GuardTiming;
  /** Default: GUARD_RULES. */
  readonly rules?: GuardRules;
}

/** A new guard: no peer heard, no VRRP advert heard, not isolated. */
export function newPeerGuard(opts: GuardOptions): PeerGuard {
  return {
    table: emptyPeerTable({ expiryMs: peerExpiryMs(opts.advertIntervalCs) }),
    lastVrrpRxMs: -Infinity,
    isolated: false,
    fingerprint: opts.fingerprint,
    mismatches: new Map(),
    witnessConfigured: opts.witnessConfigured,
    timing: opts.timing ?? guardTiming(opts.advertIntervalCs),
    rules: opts.rules ?? GUARD_RULES,
  };
}

export type GuardEffect =
  | { readonly type: 'observe-epoch'; readonly epoch: number }
  | { readonly type: 'input'; readonly input: Input }
  | { readonly type: 'config-mismatch'; readonly peer: string; readonly ours: string; readonly theirs: string }
  | { readonly type: 'config-match'; readonly peer: string }
  | { readonly type: 'isolation'; readonly active: boolean; readonly detail: string };

/** What the guard needs to know of the moment and of the rest of the node. */
export interface GuardNow {
  readonly nowMs: number;
  /** The witness verdict: undefined = not probed yet (or no witness). */
  readonly witnessReachable: boolean | undefined;
  /**
   * Peer silence after which this node counts as isolated; default the guard's
   * timing.isolationSilenceMs. Only an alternative wiring under test passes another.
   */
  readonly silenceMs?: number;
}

export interface HelloContext extends GuardNow {
  /** The fencing epoch this node holds (its own); the guard adds the largest peer epoch seen. */
  readonly ownEpoch: number;
  /** Our VRRP source address on the instance's interface (our own hellos are not adverts). */
  readonly ourVrrpAddress: string;
}

export type HelloVerdict =
  | { readonly accepted: false; readonly reason: NoteRejectReason | 'epoch-jump'; readonly detail: string }
  /** fresh: false = a copy already delivered on another path (only that path's time moved). */
  | { readonly accepted: true; readonly fresh: boolean; readonly effects: readonly GuardEffect[] };

const NO_EFFECTS: readonly GuardEffect[] = Object.freeze([]);

/**
 * Isolated = no peer heard on any path (VRRP or hello) for `silenceMs` AND no witness reachable.
 * Returns the effects of a verdict change (isolation notice, then the fault input), or none.
 * With no witness configured nothing is evaluated (the rule is off).
 */
export function evaluateIsolation(g: PeerGuard, now: GuardNow, silenceMs = now.silenceMs ?? g.timing.isolationSilenceMs): readonly GuardEffect[] {
  if (!g.witnessConfigured) return NO_EFFECTS;
  const isolated = g.rules.isIsolated({
    table: g.table, lastVrrpRxMs: g.lastVrrpRxMs, nowMs: now.nowMs, masterDownMs: silenceMs, witnessReachable: now.witnessReachable,
  });
  if (isolated === g.isolated) return NO_EFFECTS;
  g.isolated = isolated;
  return [
    { type: 'isolation', active: isolated, detail: isolated ? ISOLATED_DETAIL : NOT_ISOLATED_DETAIL },
    { type: 'input', input: { type: 'fault', source: 'isolated', active: isolated } },
  ];
}

/**
 * A hello from a peer (decoded, authenticated, for this instance, from the path's configured
 * peer), in this order: its epoch must be plausible (acceptPeerEpoch against the largest epoch we
 * hold, ours or any peer's), it must not be a replay (notePeer); a copy already delivered on
 * another path stops there. Then: its epoch to observe, a config mismatch or match notice (from
 * the node's newest hello only), the advert a MASTER's hello stands for, and the isolation rule.
 */
export function onHello(g: PeerGuard, hello: Hello, path: string, ctx: HelloContext): HelloVerdict {
  const epochOk = g.rules.acceptPeerEpoch(hello.epoch, Math.max(ctx.ownEpoch, maxEpochSeen(g.table)));
  if (!epochOk.ok) return { accepted: false, reason: epochOk.reason, detail: epochOk.detail };
  const verdict = notePeer(g.table, { node: hello.node, path, hello, nowMs: ctx.nowMs });
  if (!verdict.accepted) return verdict;
  if (!verdict.fresh) return { accepted: true, fresh: false, effects: NO_EFFECTS };
  const effects: GuardEffect[] = [{ type: 'observe-epoch', epoch: hello.epoch }];
  const known = g.mismatches.get(hello.node);
  if (verdict.newest && hello.fingerprint !== g.fingerprint && known !== hello.fingerprint) {
    g.mismatches.set(hello.node, hello.fingerprint);
    effects.push({ type: 'config-mismatch', peer: hello.node, ours: g.fingerprint, theirs: hello.fingerprint });
  } else if (verdict.newest && hello.fingerprint === g.fingerprint && known !== undefined) {
    g.mismatches.delete(hello.node);
    effects.push({ type: 'config-match', peer: hello.node });
  }
  const advert: AdvertInput | undefined = g.rules.helloAsAdvert(hello, ctx.ourVrrpAddress);
  if (advert !== undefined) effects.push({ type: 'input', input: advert });
  effects.push(...evaluateIsolation(g, ctx));
  return { accepted: true, fresh: true, effects };
}

/**
 * An accepted VRRP advert (any sender) was heard: the peer is alive on the VRRP path. Returns the
 * isolation effects; the caller feeds the advert itself to the state machine AFTER them.
 */
export function onVrrpHeard(g: PeerGuard, now: GuardNow): readonly GuardEffect[] {
  g.lastVrrpRxMs = now.nowMs;
  return evaluateIsolation(g, now);
}

/**
 * Right before this backup acts on its own Master_Down expiry: the stricter silence
 * (timing.preExpirySilenceMs; peers hello every interval, so a live one has been heard by then).
 * A backup cut off from every peer and witness fences itself instead of taking over.
 */
export function beforeMasterDown(g: PeerGuard, now: GuardNow): readonly GuardEffect[] {
  return evaluateIsolation(g, now, g.timing.preExpirySilenceMs);
}

/**
 * The guard's part of an instance's status at `nowMs`: silent nodes are forgotten first
 * (expirePeers), then every remaining peer with its fingerprint match and how long ago it was
 * heard, overall and per path (ms, rounded).
 */
export function guardStatus(g: PeerGuard, nowMs: number): Required<Pick<InstanceStatus, 'fingerprint' | 'isolated' | 'peers'>> {
  expirePeers(g.table, nowMs);
  return {
    fingerprint: g.fingerprint,
    isolated: g.isolated,
    peers: peersHeardSince(g.table, -Infinity).map((e) => ({
      node: e.node, state: e.state, priority: e.priority, epoch: e.epoch, vrrpAddress: e.vrrpAddress,
      fingerprintMatch: e.fingerprint === g.fingerprint,
      lastSeenAgoMs: Math.round(nowMs - e.lastSeenMs),
      paths: Object.fromEntries(Object.entries(e.paths).map(([k, v]) => [k, Math.round(nowMs - v)])),
    })),
  };
}
