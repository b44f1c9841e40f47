/** Human output of `haagent status`: one table row per instance, then recent transitions. */
import type { AgentStatus, InstanceStatus } from '../core/control/types.js';
import { hostPort, stripPrefix } from '../core/packet/ip.js';
import { serviceName } from '../core/lb/name.js';

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** Virtual services: a line per service, then one per real server (like `ipvsadm -L`). */
function serviceLines(i: InstanceStatus): string[] {
  const lines: string[] = [];
  for (const v of i.services ?? []) {
    const up = v.realServers.filter((r) => r.up).length;
    lines.push(`${i.name}: service ${serviceName(v)} (${v.mode}, ${v.scheduler}): ${v.active ? 'serving' : 'standby (not master)'}, ${up}/${v.realServers.length} real servers up`
      + (v.error === undefined ? '' : ` - ERROR: ${v.error}`));
    for (const r of v.realServers) {
      const check = r.check === null ? 'no check' : `${r.check.type} check ${r.check.status}${r.check.detail === null ? '' : `: ${r.check.detail}`}`;
      lines.push(`  -> ${hostPort(r.address, r.port)}  weight ${r.weight}  ${r.up ? 'up' : 'DOWN'}  (${check})`);
    }
  }
  return lines;
}

/** A held-back takeover (reason, since, detail) and the last guard results. */
function takeoverLines(i: InstanceStatus): string[] {
  const t = i.takeover;
  if (t === undefined) return [];
  const lines: string[] = [];
  if (t.blocked) lines.push(`${i.name}: TAKEOVER HELD BACK (${t.reason ?? '?'}) since ${t.since ?? '?'}: ${t.detail ?? ''}`);
  for (const g of t.guards ?? []) {
    const how = g.ok ? 'pass' : g.error !== undefined ? `FAIL (${g.error})` : g.timedOut ? 'FAIL (timed out)' : `FAIL (exit ${String(g.exitCode)})`;
    lines.push(`${i.name}: guard ${g.name}: ${how} in ${g.durationMs} ms`);
  }
  return lines;
}

/** Connection-state sync: conntrackd, the peer on the sync link, the caches, the last commit. */
function conntrackLines(i: InstanceStatus): string[] {
  const c = i.conntrackSync;
  if (c === undefined) return [];
  const daemon = c.running ? `conntrackd running (pid ${c.pid ?? '?'}${c.restarts > 0 ? `, ${c.restarts} restarts` : ''})` : 'conntrackd NOT RUNNING';
  const peer = c.peerReachable ? `peer reachable on ${c.activeLink ?? '?'}` : 'PEER UNREACHABLE (sync link down?)';
  const caches = `${c.internalEntries ?? '?'} local / ${c.externalEntries ?? '?'} peer connections`;
  const commit = c.lastCommit === null ? '' : `, last commit ${c.lastCommit.ok ? 'ok' : 'FAILED'} in ${c.lastCommit.durationMs} ms at ${c.lastCommit.at}`;
  return [`${i.name}: conntrack sync: ${daemon}, ${peer}, ${caches}${commit}${c.error === undefined ? '' : ` - ${c.error}`}`];
}

export function formatStatus(s: AgentStatus): string {
  const rows = [['INSTANCE', 'VRID', 'STATE', 'PRIO', 'EFF', 'VIPS', 'MASTER', 'IN STATE', 'SENT', 'RECV', 'DROPS']];
  for (const i of s.instances) {
    const drops = Object.values(i.drops).reduce((a, b) => a + b, 0);
    const master = i.master === null ? '-' : i.master.self ? `self (${i.master.priority})` : `${i.master.address} (${i.master.priority})`;
    const blocked = i.takeover?.blocked === true ? ` (held: ${i.takeover.reason ?? '?'})` : '';
    rows.push([i.name, String(i.vrid), `${i.state}${i.maintenance ? ' (maint)' : ''}${blocked}`, String(i.priority), String(i.effectivePriority), i.vips.join(','), master,
      duration(i.timeInStateMs), String(i.advertsSent), String(i.advertsReceived), String(drops)]);
  }
  const containment = s.containment === undefined ? '' : `, hooks contained by ${s.containment.mode === 'cgroup' ? 'cgroup' : `process group (${s.containment.detail})`}`;
  const lines = [`haagent ${s.version}, pid ${s.pid}, up since ${s.startedAt}${containment}`, '', table(rows)];
  for (const i of s.instances) {
    if (i.faults.length > 0) lines.push('', `${i.name}: FAULT sources: ${i.faults.join(', ')}`);
    lines.push(...takeoverLines(i));
    const e = i.election;
    if (e !== undefined) {
      const holder = e.holder === undefined ? 'the leader key is free' : `leader key held by ${e.holder === i.address ? 'self' : e.holder} (epoch ${String(e.holderEpoch ?? '?')})`;
      lines.push(`${i.name}: election ${e.mode}: ${e.reachable ? 'etcd reachable' : 'ETCD UNREACHABLE'}, ${holder}${e.keptWithoutEtcd === true ? ', MASTER KEPT WITHOUT ETCD (etcd-unreachable: keep)' : ''}`);
    }
    lines.push(...conntrackLines(i));
    for (const m of i.vrrpMismatches ?? []) {
      lines.push(`${i.name}: CONFIG MISMATCH: adverts from ${m.from} dropped (${m.reason}, ${m.dropped} so far; theirs: ${m.theirs.join(', ') || '-'}, ours: ${i.vips.map(stripPrefix).join(', ')})`);
    }
    if (i.epochPersisted === false || i.epochStateError !== undefined) {
      lines.push(`${i.name}: EPOCH ${i.epochPersisted === false ? `${i.epoch} NOT PERSISTED` : 'STATE'}: ${i.epochStateError ?? 'write pending'}`);
    }
    for (const c of i.checks) {
      const last = c.lastResult === null ? 'no result yet' : `${c.lastResult.ok ? 'ok' : 'FAIL'} ${c.lastResult.latencyMs} ms: ${c.lastResult.detail}`;
      lines.push(`${i.name}: check ${c.name} (${c.type}, weight ${c.weight}): ${c.status} - ${last}`);
    }
    const lastHook = i.hooks[i.hooks.length - 1];
    if (lastHook !== undefined) {
      lines.push(`${i.name}: last hook ${lastHook.hook} at ${lastHook.startedAt}: ${lastHook.ok ? 'ok' : lastHook.timedOut ? 'TIMED OUT' : `exit ${String(lastHook.exitCode)}`} in ${lastHook.durationMs} ms${lastHook.containment === undefined ? '' : ` (${lastHook.containment})`}`);
    }
    lines.push(...serviceLines(i));
    const dropKinds = Object.entries(i.drops);
    if (dropKinds.length > 0) lines.push(`${i.name}: drops: ${dropKinds.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    if (i.transitions.length > 0) {
      lines.push('', `${i.name}: last transitions`);
      for (const t of i.transitions.slice(-5)) lines.push(`  ${t.at}  ${t.from} -> ${t.to}  ${t.reason}`);
    }
  }
  for (const [ifname, d] of Object.entries(s.interfaceDrops)) {
    lines.push(`${ifname}: dropped before demux: ${Object.entries(d).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  const helloDrops = Object.entries(s.helloDrops ?? {});
  if (helloDrops.length > 0) lines.push(`peer hellos dropped: ${helloDrops.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return lines.join('\n');
}
