/**
 * The agent's share of the election on etcd: one etcd client and one lease for every instance
 * elected on etcd, created when the first such instance starts (a reload may add one) and
 * stopped last at shutdown, after the instances let go of their keys (revoking the lease
 * deletes whatever keys of it remain).
 *
 * Contract: `forInstance` never throws for etcd being unreachable (the lease keeper keeps
 * trying; until a lease exists every claim is held back `etcd`); it throws HA_ERR_CONFIG when an
 * instance asks for an election on etcd and the config has no `etcd` section (validation
 * refuses that already; this only guards a config built some other way). The etcd section is
 * read when the client is created: a reload that changes it applies at the next start (logged).
 */
import type { Logger } from 'pino';
import { HaagentError } from '../core/errors.js';
import type { AgentConfig, InstanceConfig } from '../core/config/types.js';
import { electionPollMs } from '../core/election/decide.js';
import type { EtcdConfig } from '../core/config/types.js';
import { EtcdEpochs } from './etcd-epochs.js';
import type { EtcdClientPort } from './etcd-ports.js';
import type { InstanceDeps } from './instance-ports.js';

export type EtcdClientFactory = (cfg: EtcdConfig, log: Logger) => EtcdClientPort;

/** Bound on revoking the lease at shutdown (within the agent's one-second shutdown). */
const STOP_BOUND_MS = 300;

export class EtcdShared {
  private client: EtcdClientPort | undefined;
  private cfg: EtcdConfig | undefined;

  constructor(private readonly factory: EtcdClientFactory | undefined, private readonly log: Logger) {}

  /** Whether `inst` is elected on etcd. */
  static uses(inst: InstanceConfig): boolean {
    return inst.election === 'vrrp+etcd' || inst.election === 'etcd';
  }

  /** The etcd ports of one instance (undefined for plain VRRP); starts the client on first use. */
  forInstance(inst: InstanceConfig, config: AgentConfig, node: string): InstanceDeps['etcd'] {
    if (!EtcdShared.uses(inst)) return undefined;
    const cfg = config.etcd;
    if (cfg === undefined) throw new HaagentError('HA_ERR_CONFIG', `instance ${inst.name}: election ${String(inst.election)} needs the etcd section`);
    if (this.factory === undefined) throw new HaagentError('HA_ERR_CONFIG', `instance ${inst.name}: this agent has no etcd client`);
    if (this.client === undefined) {
      this.cfg = cfg;
      const client = this.factory(cfg, this.log.child({ component: 'etcd' }));
      this.client = client;
      client.start().catch((err: unknown) => {
        this.log.error({ err }, 'etcd: no lease yet; instances elected on etcd stay out of MASTER until one is granted');
      });
    } else if (JSON.stringify(this.cfg) !== JSON.stringify(cfg)) {
      this.log.warn('the etcd section changed: it applies at the next start of the agent');
    }
    return {
      kv: this.client.kv, lease: this.client.lease, prefix: (this.cfg ?? cfg).prefix,
      pollMs: electionPollMs((this.cfg ?? cfg).keepaliveIntervalMs), node, epochs: new EtcdEpochs(),
    };
  }

  /** Revokes the lease (bounded); idempotent. */
  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      c.stop().catch((err: unknown) => this.log.warn({ err }, 'etcd: revoking the lease failed (it expires by itself)')),
      new Promise((r) => { timer = setTimeout(r, STOP_BOUND_MS); }),
    ]);
    clearTimeout(timer);
  }
}
