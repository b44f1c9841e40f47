/**
 * Data-consistent takeovers: what stands between a claim to MASTER and MASTER. Not RFC 9568,
 * which makes a backup master the moment its Master_Down_Timer fires; these rules trade
 * availability for not serving stale data, and are all off unless configured
 * (`settings.takeover`), except two that always apply: the backoff after a failed promotion,
 * and the hold while the demote hook of the last departure from MASTER runs (when a backup,
 * fault or stop hook is configured), so a demotion script is never overtaken by a promotion.
 *
 * A claim is made where the RFC would enter MASTER: a Master_Down expiry, a preemption (its
 * delay included) and an address owner's start. `claimMaster` then decides, in this order:
 * - held back (`blocked`, the node stays BACKUP with no Master_Down_Timer; the retry timer
 *   `guard-retry` is armed for when the reason ends):
 *   `demote-hook` while the demote hook of the last departure from MASTER runs (no timer: the
 *   `demote-hook-done` input retries), `promotion-backoff` until the backoff after a failed
 *   before-master ends, `cold-start` until a peer was heard since boot or the cold-start
 *   timeout passed (a peer heard ends the wait: the node watches for a master again);
 * - guards configured: `run-guards` and the node stays BACKUP (`guarding`); all pass -> MASTER;
 *   one failed -> blocked `guard`, retried every guardRetryMs (a retry runs the guards again);
 * - otherwise MASTER at once.
 * While a claim is pending, an advert of a master this node would not preempt (priority at
 * least ours, or preempt off) cancels it (backup.ts), and the node is a plain BACKUP again.
 * A MASTER never runs guards. `promote-force` skips guards, cold start and backoff once.
 *
 * Election on etcd (`settings.takeover.etcd`): every claim also has to win the instance's
 * leader key. The shell does it in the same attempt as the guards (after them) and answers
 * `guards-result` with `reason: 'etcd'` when the key is held elsewhere or etcd cannot be
 * reached: held back `etcd`, retried every `etcd.retryMs`. A MASTER that loses the key
 * (`lock-lost`) releases at once like a failed promotion (priority 0, VIPs removed, BACKUP),
 * without the backoff, and its claim waits for the key again. `promote --force` is refused:
 * the key is the only way to MASTER. `claim` makes a claim now (the key was seen free).
 */
import { enterBackup, enterMaster, masterDownMs } from './transitions.js';
import { changeTimers } from './timer-effects.js';
import type { Effect, InstanceState, StepResult, TakeoverBlockReason, TakeoverState } from './types.js';

/** The backoff after a failed promotion when the instance has no takeover settings. */
export const DEFAULT_PROMOTION_BACKOFF_MS = 10_000;

/** How often a failed guard is retried when `guard-retry` is not set. */
export const DEFAULT_GUARD_RETRY_MS = 2000;

interface Hold {
  readonly reason: TakeoverBlockReason;
  readonly detail: string;
  /** When to try again; null = an input will (demote-hook-done). */
  readonly retryAtMs: number | null;
}

/** What holds a claim back now, in precedence order; undefined = nothing. */
function holdFor(state: InstanceState, nowMs: number): Hold | undefined {
  const t = state.takeover;
  if (t.demoting) return { reason: 'demote-hook', detail: 'the demote hook of the last departure from MASTER is still running', retryAtMs: null };
  if (t.backoffUntilMs !== null && t.backoffUntilMs > nowMs) {
    return { reason: 'promotion-backoff', detail: `before-master failed; no takeover for ${Math.ceil(t.backoffUntilMs - nowMs)} ms more`, retryAtMs: t.backoffUntilMs };
  }
  if (!t.peerHeard && t.coldStartUntilMs !== null && t.coldStartUntilMs > nowMs) {
    return { reason: 'cold-start', detail: `no peer heard since boot; waiting up to ${Math.ceil(t.coldStartUntilMs - nowMs)} ms more`, retryAtMs: t.coldStartUntilMs };
  }
  return undefined;
}

/** A state in BACKUP for the claim to wait in (entering it first from INIT/FAULT/STOPPED). */
function asBackup(state: InstanceState, nowMs: number, reason: string): StepResult {
  if (state.state === 'BACKUP') return { state, effects: [] };
  return enterBackup(state, nowMs, reason);
}

/** Waiting in BACKUP with `takeover` as given: no Master_Down_Timer, the retry timer as asked. */
function wait(state: InstanceState, takeover: TakeoverState, before: readonly Effect[]): StepResult {
  const t = changeTimers(state.timers, [['master-down', null], ['preempt-delay', null]]);
  const retry: Effect[] = [];
  if (takeover.retryAtMs !== null) retry.push({ type: 'arm-guard-retry', deadlineMs: takeover.retryAtMs });
  else if (state.takeover.retryAtMs !== null) retry.push({ type: 'cancel-guard-retry' });
  return { state: { ...state, timers: t.timers, takeover }, effects: [...before, ...t.effects, ...retry] };
}

function hold(state: InstanceState, nowMs: number, claimReason: string, h: Hold, before: readonly Effect[] = []): StepResult {
  const prev = state.takeover.blocked;
  const sinceMs = prev !== null && prev.reason === h.reason ? prev.sinceMs : nowMs;
  return wait(state, { ...state.takeover, phase: 'blocked', claimReason, blocked: { reason: h.reason, detail: h.detail, sinceMs }, retryAtMs: h.retryAtMs }, before);
}

/**
 * This node would become MASTER now (`reason` says why). Returns MASTER, or BACKUP with the
 * claim guarding or blocked (see the module comment). Without takeover settings and with no
 * backoff pending it is exactly enterMaster.
 */
export function claimMaster(state: InstanceState, nowMs: number, reason: string): StepResult {
  if (state.maintenance && state.state === 'BACKUP') return standDown(state, nowMs);
  const h = holdFor(state, nowMs);
  const guarded = state.settings.takeover?.guarded === true || state.settings.takeover?.etcd !== undefined;
  if (h === undefined && !guarded) return enterMaster(state, nowMs, reason);
  const b = asBackup(state, nowMs, h === undefined ? `${reason}; running the takeover guards` : `${reason}; takeover held back (${h.reason})`);
  if (h !== undefined) return hold(b.state, nowMs, reason, h, b.effects);
  const attempt = b.state.takeover.attempt + 1;
  const r = wait(b.state, { ...b.state.takeover, phase: 'guarding', attempt, claimReason: reason, retryAtMs: null }, b.effects);
  return { state: r.state, effects: [...r.effects, { type: 'run-guards', attempt }] };
}

/** A pending claim is given up (a master we accept was heard): a plain BACKUP again. */
export function cancelClaim(state: InstanceState): StepResult {
  const t = state.takeover;
  if (t.phase === 'idle') return { state, effects: [] };
  const effects: Effect[] = t.retryAtMs === null ? [] : [{ type: 'cancel-guard-retry' }];
  return { state: { ...state, takeover: { ...t, phase: 'idle', claimReason: '', blocked: null, retryAtMs: null } }, effects };
}

/** Give a pending claim up and watch for a master again (a fresh Master_Down_Timer). */
function standDown(state: InstanceState, nowMs: number): StepResult {
  const c = cancelClaim(state);
  const timers = changeTimers(c.state.timers, [['master-down', nowMs + masterDownMs(c.state)]]);
  return { state: { ...c.state, timers: timers.timers }, effects: [...c.effects, ...timers.effects] };
}

export function onGuardsResult(state: InstanceState, attempt: number, ok: boolean, detail: string, nowMs: number, reason: 'guard' | 'etcd' = 'guard'): StepResult {
  const t = state.takeover;
  if (state.state !== 'BACKUP' || t.phase !== 'guarding' || t.attempt !== attempt) return { state, effects: [] };
  if (!ok) {
    const etcd = state.settings.takeover?.etcd;
    const retryMs = reason === 'etcd' && etcd !== undefined ? etcd.retryMs : state.settings.takeover?.guardRetryMs ?? DEFAULT_GUARD_RETRY_MS;
    return hold(state, nowMs, t.claimReason, { reason, detail, retryAtMs: nowMs + retryMs });
  }
  const h = holdFor(state, nowMs);
  if (h !== undefined) return hold(state, nowMs, t.claimReason, h);
  if (state.maintenance) return standDown(state, nowMs);
  return enterMaster(state, nowMs, `${t.claimReason}; takeover guards passed`);
}

/** The retry timer fired: a blocked claim is made again. */
export function onGuardRetry(state: InstanceState, nowMs: number): StepResult {
  const t = state.takeover;
  if (t.retryAtMs === null || t.retryAtMs > nowMs) return { state, effects: [] }; // stale fire
  const fired: InstanceState = { ...state, takeover: { ...t, retryAtMs: null } };
  if (state.state !== 'BACKUP' || t.phase !== 'blocked') return { state: fired, effects: [] };
  return claimMaster(fired, nowMs, t.claimReason);
}

/**
 * before-master failed: the VIPs were not added. A MASTER sends priority 0 (the peer takes over
 * after Skew_Time) and becomes BACKUP; in every state no claim is made for the backoff.
 */
export function onPromotionFailed(state: InstanceState, detail: string, nowMs: number): StepResult {
  const backoffMs = state.settings.takeover?.promotionBackoffMs ?? DEFAULT_PROMOTION_BACKOFF_MS;
  const next: InstanceState = { ...state, takeover: { ...state.takeover, backoffUntilMs: nowMs + backoffMs } };
  if (state.state !== 'MASTER') return { state: next, effects: [] };
  const reason = `promotion failed: ${detail}`;
  const b = enterBackup(next, nowMs, reason);
  const h = holdFor(b.state, nowMs) ?? { reason: 'promotion-backoff', detail, retryAtMs: nowMs + backoffMs };
  return hold(b.state, nowMs, 'retrying after a failed promotion', h, [{ type: 'send-advert', priority: 0 }, ...b.effects]);
}

/** A peer was heard: the cold-start wait is over; a claim it held back watches for a master again. */
export function onPeerHeard(state: InstanceState, nowMs: number): StepResult {
  const t = state.takeover;
  if (t.peerHeard) return { state, effects: [] };
  const heard: InstanceState = { ...state, takeover: { ...t, peerHeard: true } };
  if (state.state !== 'BACKUP' || t.blocked?.reason !== 'cold-start' || t.phase !== 'blocked') return { state: heard, effects: [] };
  return standDown(heard, nowMs);
}

/** The demote hook finished: a claim it held back is made now. */
export function onDemoteHookDone(state: InstanceState, nowMs: number): StepResult {
  const t = state.takeover;
  if (!t.demoting) return { state, effects: [] };
  const done: InstanceState = { ...state, takeover: { ...t, demoting: false } };
  if (state.state !== 'BACKUP' || t.phase !== 'blocked' || t.blocked?.reason !== 'demote-hook') return { state: done, effects: [] };
  return claimMaster(done, nowMs, t.claimReason);
}

/**
 * Why `promote --force` is refused now, or undefined when it may go ahead: only a BACKUP out of
 * maintenance that hears no live master (one heard within Master_Down_Interval), and not while
 * its demote hook runs.
 */
export function forcePromoteRefusal(state: InstanceState, nowMs: number): string | undefined {
  const name = state.settings.name;
  if (state.state === 'MASTER') return `${name} is already MASTER here`;
  if (state.state !== 'BACKUP') return `${name} is ${state.state}${state.faults.length > 0 ? ` (${state.faults.join(', ')})` : ''}: it cannot take over`;
  if (state.settings.takeover?.etcd !== undefined) return `${name} is elected on etcd: only the holder of its leader key may be MASTER`;
  if (state.maintenance) return `${name} is in maintenance: turn it off first`;
  const m = state.master;
  if (m !== null && m.priority > 0 && nowMs - m.lastSeenMs < masterDownMs(state)) return `${name} has a master (${m.address}); run switchover there`;
  if (state.takeover.demoting) return `${name}: the demote hook is still running; try again when it has finished`;
  return undefined;
}

/** `promote --force`: MASTER now, past guards, cold start and backoff (refused cases change nothing). */
export function onPromoteForce(state: InstanceState, nowMs: number): StepResult {
  if (forcePromoteRefusal(state, nowMs) !== undefined) return { state, effects: [] };
  const t = state.takeover;
  const cleared: InstanceState = { ...state, takeover: { ...t, backoffUntilMs: null, coldStartUntilMs: null } };
  return enterMaster(cleared, nowMs, 'promote --force by the operator');
}

/**
 * Election on etcd: the leader key is no longer ours. A MASTER releases at once (priority 0,
 * VIPs removed, BACKUP) and its claim waits for the key (`etcd`, retried); nothing else changes
 * (a claim in progress learns it from its own attempt). Without etcd settings: ignored.
 */
export function onLockLost(state: InstanceState, detail: string, nowMs: number): StepResult {
  const etcd = state.settings.takeover?.etcd;
  if (etcd === undefined || state.state !== 'MASTER') return { state, effects: [] };
  const b = enterBackup(state, nowMs, `leader key lost: ${detail}`);
  const h = holdFor(b.state, nowMs) ?? { reason: 'etcd', detail, retryAtMs: nowMs + etcd.retryMs };
  return hold(b.state, nowMs, 'the leader key was lost', h, [{ type: 'send-advert', priority: 0 }, ...b.effects]);
}

/** Election on etcd: the key is free; a BACKUP with no claim pending (and not in maintenance) claims now. */
export function onClaim(state: InstanceState, reason: string, nowMs: number): StepResult {
  if (state.settings.takeover?.etcd === undefined || state.state !== 'BACKUP' || state.maintenance || state.releasing) return { state, effects: [] };
  if (state.takeover.phase !== 'idle') return { state, effects: [] };
  return claimMaster(state, nowMs, reason);
}
