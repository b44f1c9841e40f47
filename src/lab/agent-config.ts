/**
 * The YAML config of a lab agent (`haagent lab`, the balancer namespace tests, the load-balancer
 * benchmark): one instance `web` with heartbeats on int0 and the lab VIP (or another) on ext0,
 * and its virtual services over the hosts' web servers. Addresses are quoted (IPv6 too). Text
 * only; the caller writes the file.
 */
import { VIP_CIDR } from './topology.js';

export interface LabRealServer {
  readonly address: string;
  readonly port: number;
  /** The check as a YAML flow mapping, e.g. `{ type: tcp, interval: 200ms }`. */
  readonly check: string;
}

export interface LabService {
  readonly port: number;
  /** Absent: the config default (nftables). */
  readonly mode?: 'nftables' | 'proxy';
  /** Absent: the config default (round-robin). */
  readonly scheduler?: string;
  readonly servers: readonly LabRealServer[];
}

export interface LabAgentConfig {
  readonly socket: string;
  readonly vrid: number;
  readonly advertInterval: string;
  /** The VIP (CIDR); absent: the lab VIP. */
  readonly vip?: string;
  /** With `preempt: true`; absent: the role's default priority. */
  readonly priority?: number;
  readonly services: readonly LabService[];
  /** A first comment line (without `# `). */
  readonly comment?: string;
}

function serviceYaml(s: LabService): string {
  return `      - port: ${s.port}\n`
    + (s.mode === undefined ? '' : `        mode: ${s.mode}\n`)
    + (s.scheduler === undefined ? '' : `        scheduler: ${s.scheduler}\n`)
    + '        real-servers:\n'
    + s.servers.map((r) => `          - { address: "${r.address}", port: ${r.port}, check: ${r.check} }\n`).join('');
}

export function labAgentYaml(c: LabAgentConfig): string {
  return (c.comment === undefined ? '' : `# ${c.comment}\n`)
    + `socket: ${c.socket}
instances:
  - name: web
    vrid: ${c.vrid}
    interface: int0
    external: ext0
    vips: ["${c.vip ?? VIP_CIDR}"]
    advert-interval: ${c.advertInterval}
`
    + (c.priority === undefined ? '' : `    priority: ${c.priority}\n    preempt: true\n`)
    + '    virtual-services:\n'
    + c.services.map(serviceYaml).join('');
}
