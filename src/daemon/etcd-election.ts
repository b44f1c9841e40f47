/**
 * One instance's election on etcd (`election: vrrp+etcd` or `etcd`): the shell around the pure
 * rules of src/core/election/. It wins and frees the instance's leader key, keeps this node's
 * candidate key, watches the key while MASTER, and in `election: etcd` is the source of the
 * state machine's view of the master (instead of VRRP adverts).
 *
 * What it guarantees:
 * - MASTER only with the key: a claim becomes MASTER only after `acquire()` won the key (the
 *   takeover asks it, after the guards); the create revision is handed to the epoch store first.
 * - A MASTER whose lease passes its fence deadline ('fence') or is gone ('lost'), or that reads
 *   the key held by another or gone, is told `lock-lost` at once: it releases like a failed
 *   promotion (priority 0, VIPs removed). Exception, `vrrp+etcd` with `etcd-unreachable: keep`:
 *   while etcd cannot be reached the MASTER keeps serving; once etcd answers, it re-takes a free
 *   key or, if another holds it, releases.
 * - The key is freed only after the VIPs are gone (`afterVipsRemoved`), and a key this node
 *   holds while it is not MASTER and no claim is pending is freed at the next poll.
 * - Preemption: a holder resigns (`lock-lost`) when a live candidate with a higher priority that
 *   asks to preempt is registered.
 * - `election: etcd`: each poll feeds the holder as a master advert (a BACKUP stays BACKUP),
 *   or, when the key is free, a `claim`; who goes first is decided by rank in `acquire()`, and
 *   for one stagger after the start nobody claims a free key (the candidates started together
 *   register first, so the best of them wins, not the quickest).
 * All etcd calls of the instance run one at a time; nothing here throws into the protocol.
 * Not done here: lease keepalives and fence deadlines (the lease keeper), etcd's own safety.
 */
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import type { ElectionStatus } from '../core/control/types.js';
import type { Input, InstanceState } from '../core/fsm/types.js';
import { candidateKey, decodeCandidate, decodeLeader, encodeCandidate, encodeLeader, instanceDir, leaderKey } from '../core/election/keys.js';
import { candidateStaggerMs, claimGate, epochOfRevision, resignFor, type CandidateView, type ElectionView } from '../core/election/decide.js';
import type { MonotonicClock } from '../adapters/ports.js';
import type { EtcdEpochs } from './etcd-epochs.js';
import type { EtcdKv, LeasePort } from './etcd-ports.js';
import { errorMessage } from '../core/errors.js';

export interface EtcdElectionDeps {
  readonly kv: EtcdKv;
  readonly lease: LeasePort;
  readonly clock: MonotonicClock;
  readonly log: Logger;
  readonly prefix: string;
  readonly pollMs: number;
  readonly config: () => InstanceConfig;
  readonly state: () => InstanceState;
  /** This node's id and address (its primary address on the heartbeat interface). */
  readonly node: string;
  readonly epochs: EtcdEpochs;
  /** Feeds the state machine; called from timers and settled promises only. */
  readonly input: (i: Input) => void;
}

export interface AcquireResult {
  readonly ok: boolean;
  readonly detail: string;
}


export class EtcdElection {
  /** Create revision of the leader key this node won and has not freed. */
  private heldRevision: bigint | undefined;
  private serial: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** When the key was first seen free (for the stagger), undefined while it is held. */
  private freeSinceMs: number | undefined;
  /** The candidate value and lease last written, to write only changes. */
  private registered = '';
  private lastView: ElectionView | undefined;
  private reachable = true;
  /** MASTER kept while etcd was unreachable (etcd-unreachable: keep). */
  private kept = false;
  /** When polling started (monotonic ms): nodes started together see each other's candidates first. */
  private startedAtMs = 0;
  private readonly onFence = (): void => this.leaseGone('the lease passed its fence deadline without an answer from etcd', true);
  private readonly onLost = (): void => this.leaseGone('etcd says the lease is gone', false);
  private readonly onRenewed = (): void => { this.registered = ''; };

  constructor(private readonly deps: EtcdElectionDeps) {}

  private get mode(): 'vrrp+etcd' | 'etcd' {
    return this.deps.config().election === 'etcd' ? 'etcd' : 'vrrp+etcd';
  }

  start(): void {
    const { lease } = this.deps;
    lease.on('fence', this.onFence);
    lease.on('lost', this.onLost);
    lease.on('renewed', this.onRenewed);
    this.startedAtMs = this.deps.clock();
    const tick = (): void => {
      if (this.stopped) return;
      void this.run(() => this.poll()).finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.deps.pollMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops polling; the candidate goes to priority 0 (best effort, bounded by the gateway). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const { lease } = this.deps;
    lease.off('fence', this.onFence);
    lease.off('lost', this.onLost);
    lease.off('renewed', this.onRenewed);
    await this.run(async () => {
      await this.freeKey();
      await this.register(false);
    });
  }

  /**
   * A claim wants MASTER: win the leader key (or find it ours already). Never rejects.
   * In `election: etcd` a free key goes to the best live candidate first (claimGate).
   */
  acquire(): Promise<AcquireResult> {
    return this.run(() => this.tryAcquire()).then((r) => r ?? { ok: false, detail: 'the election is stopped' });
  }

  /**
   * Why the key cannot be won now (held by another node, no live lease, etcd unreachable), or
   * undefined when it may be: a cheap read before the takeover guards run. Never rejects.
   */
  blockedNow(): Promise<string | undefined> {
    return this.run(async () => {
      if (!this.leaseUsable()) return 'no live etcd lease (etcd unreachable?)';
      let view: ElectionView;
      try {
        view = await this.read();
      } catch (err) {
        return `etcd unreachable: ${errorMessage(err)}`;
      }
      const l = view.leader;
      return l === undefined || this.ours(view) ? undefined : `the leader key is held by ${l.address} (priority ${l.priority})`;
    });
  }

  /** The VIPs are gone (left MASTER, released, shutting down): free the key if still ours. */
  afterVipsRemoved(): void {
    void this.run(() => this.freeKey());
  }

  status(): ElectionStatus {
    const l = this.lastView?.leader;
    const epoch = l === undefined ? undefined : epochOfRevision(l.createRevision);
    return {
      mode: this.mode, reachable: this.reachable,
      ...(l === undefined ? {} : { holder: l.address }), ...(epoch === undefined ? {} : { holderEpoch: epoch }),
      ...(this.kept ? { keptWithoutEtcd: true } : {}),
    };
  }

  /** Runs `fn` after every earlier etcd job of this instance; a failure is logged, never thrown. */
  private run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const next = this.serial.then(fn).catch((err: unknown) => {
      this.deps.log.warn({ err: errorMessage(err) }, 'etcd election step failed');
      return undefined;
    });
    this.serial = next;
    return next;
  }

  private leaseUsable(): boolean {
    return this.deps.lease.leaseId !== undefined && this.deps.lease.fenceDeadlineMs() > this.deps.clock();
  }

  private keepWithoutEtcd(): boolean {
    return this.mode === 'vrrp+etcd' && this.deps.config().etcdUnreachable === 'keep';
  }

  private leaseGone(detail: string, unreachable: boolean): void {
    this.registered = '';
    if (this.deps.state().state !== 'MASTER') return;
    if (this.keepWithoutEtcd()) {
      this.kept = true;
      this.deps.log.warn({ unreachable }, `${detail}; keeping MASTER (etcd-unreachable: keep) until etcd answers again`);
      return;
    }
    this.deps.log.warn(`${detail}: releasing the VIPs now`);
    this.deps.input({ type: 'lock-lost', detail });
  }

  private async read(): Promise<ElectionView> {
    const cfg = this.deps.config();
    const dir = instanceDir(this.deps.prefix, cfg.name);
    const rows = await this.deps.kv.range(dir);
    let leader: ElectionView['leader'];
    const candidates: CandidateView[] = [];
    for (const r of rows) {
      if (r.key === leaderKey(this.deps.prefix, cfg.name)) {
        const v = decodeLeader(r.value);
        // An unreadable value still holds the key: nobody else may take it, we only cannot name the holder.
        const at = { createRevision: r.createRevision, leaseId: r.leaseId };
        leader = v.ok ? { ...v.value, ...at } : { node: '?', address: `unreadable (${v.reason})`, priority: 0, ...at };
      } else if (r.key.startsWith(`${dir}candidates/`)) {
        const v = decodeCandidate(r.value);
        if (v.ok) candidates.push({ node: r.key.slice(`${dir}candidates/`.length), ...v.value });
      }
    }
    const view = { leader, candidates };
    this.lastView = view;
    if (leader === undefined) this.freeSinceMs ??= this.deps.clock();
    else this.freeSinceMs = undefined;
    return view;
  }

  private ours(view: ElectionView): boolean {
    const l = view.leader;
    return l !== undefined && l.node === this.deps.node && this.heldRevision !== undefined && l.createRevision === this.heldRevision;
  }

  private async tryAcquire(): Promise<AcquireResult> {
    if (this.stopped) return { ok: false, detail: 'the election is stopped' };
    const leaseId = this.deps.lease.leaseId;
    if (leaseId === undefined || !this.leaseUsable()) return { ok: false, detail: 'no live etcd lease (etcd unreachable?)' };
    let view: ElectionView;
    try {
      view = await this.read();
      this.reachable = true;
    } catch (err) {
      this.reachable = false;
      return { ok: false, detail: `etcd unreachable: ${errorMessage(err)}` };
    }
    const s = this.deps.state();
    const self = { node: this.deps.node, priority: s.effectivePriority };
    if (!this.ours(view)) {
      if (view.leader?.node === this.deps.node) return { ok: false, detail: 'a leader key of an earlier run of this node is still there; it goes with its lease' };
      const ranked = this.mode === 'etcd';
      const staggerMs = candidateStaggerMs(this.deps.pollMs);
      const now = this.deps.clock();
      // Ranked by candidates: a node just started lets the others started with it register first.
      if (ranked && view.leader === undefined && now < this.startedAtMs + staggerMs) {
        return { ok: false, detail: `started ${Math.round(now - this.startedAtMs)} ms ago: letting the other candidates register first` };
      }
      const gate = claimGate(view, self, { ranked, freeSinceMs: this.freeSinceMs ?? now, nowMs: now, staggerMs });
      if (!gate.go) return { ok: false, detail: gate.detail };
      const value = encodeLeader({ node: this.deps.node, address: this.deps.node, priority: s.effectivePriority });
      const r = await this.deps.kv.createIfAbsent(leaderKey(this.deps.prefix, this.deps.config().name), value, leaseId);
      if (!r.held) {
        const v = decodeLeader(r.value);
        return { ok: false, detail: `the leader key is held by ${v.ok ? v.value.address : 'an unreadable holder'}` };
      }
      this.heldRevision = r.createRevision;
    }
    const epoch = this.heldRevision === undefined ? undefined : epochOfRevision(this.heldRevision);
    if (epoch === undefined) return { ok: false, detail: `the leader key's revision ${String(this.heldRevision)} is not a usable epoch` };
    // The calls took time: the lease must still be good now that the state machine will act on it.
    if (!this.leaseUsable()) return { ok: false, detail: 'the lease ran out while taking the key' };
    this.deps.epochs.hold(epoch);
    this.kept = false;
    return { ok: true, detail: `leader key won (epoch ${epoch})` };
  }

  /** Deletes the key if this node won it and is not MASTER now. */
  private async freeKey(): Promise<void> {
    const rev = this.heldRevision;
    if (rev === undefined || this.deps.state().state === 'MASTER') return;
    const deleted = await this.deps.kv.deleteIfOwned(leaderKey(this.deps.prefix, this.deps.config().name), rev);
    if (this.heldRevision === rev) this.heldRevision = undefined;
    this.deps.log.info({ deleted }, deleted ? 'leader key freed' : 'leader key was no longer ours');
  }

  /** Writes this node's candidate key when its value or the lease changed. */
  private async register(eligible: boolean): Promise<void> {
    const leaseId = this.deps.lease.leaseId;
    if (leaseId === undefined) return;
    const s = this.deps.state();
    const value = encodeCandidate({ priority: eligible ? s.effectivePriority : 0, preempt: this.deps.config().preempt });
    if (`${leaseId} ${value}` === this.registered) return;
    await this.deps.kv.put(candidateKey(this.deps.prefix, this.deps.config().name, this.deps.node), value, leaseId);
    this.registered = `${leaseId} ${value}`;
  }

  private async poll(): Promise<void> {
    let view: ElectionView;
    try {
      view = await this.read();
      this.reachable = true;
    } catch (err) {
      if (this.reachable) this.deps.log.warn({ err: errorMessage(err) }, 'etcd unreachable for the election');
      this.reachable = false;
      return;
    }
    const s = this.deps.state();
    await this.register((s.state === 'BACKUP' || s.state === 'MASTER') && !s.maintenance);
    if (s.state === 'MASTER') return this.checkMaster(view);
    if (this.ours(view) && s.takeover.phase === 'idle') await this.freeKey();
    if (this.mode !== 'etcd' || s.state !== 'BACKUP') return undefined;
    const l = view.leader;
    if (l !== undefined && l.node !== this.deps.node) {
      this.deps.input({ type: 'advert', from: l.address, priority: Math.max(1, l.priority), maxAdvertIntervalCs: this.deps.config().advertIntervalCs });
    } else if (l === undefined) {
      this.deps.input({ type: 'claim', reason: 'the leader key is free' });
    }
    return undefined;
  }

  /** A MASTER's poll: still the holder? should it resign? after a kept outage, re-take the key. */
  private async checkMaster(view: ElectionView): Promise<void> {
    const self = { node: this.deps.node, priority: this.deps.state().effectivePriority };
    const rev = this.heldRevision;
    if (this.kept && this.ours(view) && rev !== undefined && view.leader?.leaseId !== this.deps.lease.leaseId) {
      // Kept through an outage: our key still lives on the abandoned lease and goes with it.
      // Move to the current lease: free it, then take it again below (a new epoch).
      await this.deps.kv.deleteIfOwned(leaderKey(this.deps.prefix, this.deps.config().name), rev);
      this.heldRevision = undefined;
      return this.checkMaster({ ...view, leader: undefined });
    }
    if (this.ours(view)) {
      if (this.kept) this.deps.log.info('etcd answers again and the leader key is still ours');
      this.kept = false;
      const better = resignFor(view, self);
      if (better !== undefined) this.lose(`resigning for ${better.node} (priority ${better.priority}, preempt)`);
      return;
    }
    if (view.leader === undefined && this.kept) {
      const r = await this.tryAcquire();
      if (r.ok) {
        this.deps.epochs.bump();
        this.deps.log.warn({ epoch: this.deps.epochs.current() }, 'etcd answers again: leader key taken again with a new epoch; still MASTER');
        return;
      }
    }
    this.kept = false;
    this.lose(view.leader === undefined ? 'the leader key is gone' : `the leader key is held by ${view.leader.address}`);
  }

  private lose(detail: string): void {
    this.deps.log.warn(`${detail}: leaving MASTER`);
    this.deps.input({ type: 'lock-lost', detail });
  }
}
