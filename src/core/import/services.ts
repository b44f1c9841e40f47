/**
 * keepalived's LVS part (`virtual_server ADDR PORT { ... real_server ADDR PORT { ... } }`) ->
 * haagent virtual services on the instance that holds the address as a VIP.
 *
 * What maps: lb_algo rr / wrr / sh (round-robin / weighted / source-hash), lb_kind NAT (haagent
 * DNATs like IPVS NAT), protocol TCP, real server weights 1..100, and one checker per real server:
 * TCP_CHECK (connect_ip, connect_port, connect_timeout, retry) and HTTP_GET (url path and
 * status_code, connect_*), with delay_loop as the check interval. Everything else is reported.
 */
import type { PathSegment } from '../config/collector.js';
import { parseAddress } from '../net/address.js';
import { hostPort } from '../packet/ip.js';
import type { KaNode } from './parse.js';
import { duration, type Sink } from './sink.js';
import type { InstanceBuild } from './instance.js';

const SCHEDULERS: Readonly<Record<string, string>> = { rr: 'round-robin', wrr: 'weighted', sh: 'source-hash' };

/** keepalived's checker defaults: delay_loop 60 s, connect_timeout 5 s, retry 1. */
const DEFAULT_DELAY_MS = 60_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

function checker(sink: Sink, node: KaNode, server: { address: string; port: number }, intervalMs: number, path: readonly PathSegment[]): Record<string, unknown> | undefined {
  let host = server.address;
  let port = server.port;
  let timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  let retry = 1;
  let urlPath: string | undefined;
  let status: number[] = [];
  for (const o of node.children ?? []) {
    switch (o.name) {
      case 'connect_ip': { const a = parseAddress(sink.arg(o, path) ?? ''); if (a.ok) host = a.address; else sink.warn(o, path, a.reason); break; }
      case 'connect_port': port = sink.int(o, path, 1, 65535) ?? port; break;
      case 'connect_timeout': timeoutMs = sink.seconds(o, path) ?? timeoutMs; break;
      case 'retry': case 'nb_get_retry': retry = sink.int(o, path, 0, 99) ?? retry; break;
      case 'url':
        if (node.name !== 'HTTP_GET') { sink.warn(o, path, 'not mapped'); break; }
        if (urlPath !== undefined) { sink.warn(o, path, 'a second url: haagent checks one URL per real server'); break; }
        for (const u of o.children ?? []) {
          if (u.name === 'path') urlPath = sink.arg(u, path);
          else if (u.name === 'status_code') { const c = sink.int(u, path, 100, 599); if (c !== undefined) status.push(c); }
          else sink.warn(u, path, 'not mapped (haagent compares the status code only, or body-contains)');
        }
        break;
      default: sink.warn(o, path, 'not mapped');
    }
  }
  if (timeoutMs > intervalMs) {
    sink.warn(node, path, `connect_timeout ${timeoutMs / 1000}s is longer than delay_loop ${intervalMs / 1000}s: haagent needs the timeout within the interval; ${duration(intervalMs)} used`);
    timeoutMs = intervalMs;
  }
  // keepalived marks a server down after the first failure and `retry` more.
  const common = { interval: duration(intervalMs), timeout: duration(Math.max(10, timeoutMs)), rise: 1, fall: Math.min(100, retry + 1) };
  if (node.name === 'TCP_CHECK') return { type: 'tcp', host, port, ...common };
  if (status.length === 0) status = [200];
  const p = urlPath ?? '/';
  return { type: 'http', url: `http://${hostPort(host, port)}${p.startsWith('/') ? p : `/${p}`}`, 'expect-status': status, ...common };
}

function realServer(sink: Sink, node: KaNode, vsPort: number, intervalMs: number, path: readonly PathSegment[]): Record<string, unknown> | undefined {
  const a = parseAddress(node.args[0] ?? '');
  if (!a.ok) return sink.warn(node, path, a.reason);
  const portText = node.args[1] ?? String(vsPort);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return sink.warn(node, path, 'the port must be 1..65535');
  const server: Record<string, unknown> = { address: a.address, port: Number(portText) };
  let check: Record<string, unknown> | undefined;
  let drained: KaNode | undefined;
  for (const o of node.children ?? []) {
    if (o.name === 'weight') {
      const w = sink.int(o, path, 0, 65535);
      if (w === undefined) continue;
      if (w === 0) { drained = o; continue; }
      if (w > 100) sink.warn(o, path, `weight ${w} is over haagent's 100; 100 used`);
      server['weight'] = Math.min(100, w);
    } else if (o.name === 'TCP_CHECK' || o.name === 'HTTP_GET') {
      if (check !== undefined) { sink.warn(o, path, 'a second checker: haagent checks a real server once'); continue; }
      check = checker(sink, o, { address: a.address, port: Number(portText) }, intervalMs, path);
    } else {
      sink.warn(o, path, o.name === 'SSL_GET' || o.name === 'MISC_CHECK' || o.name === 'SMTP_CHECK' || o.name === 'DNS_CHECK'
        ? `${o.name} has no haagent equivalent (tcp and http checks only)` : 'not mapped');
    }
  }
  // IPVS sends a weight-0 server no new connections; haagent has no such state, and any
  // weight would send it traffic, so the server is left out.
  if (drained !== undefined) return sink.warn(drained, path, `real_server ${a.address} ${portText} has weight 0 (drained: no new connections in IPVS); haagent has no drained servers, so it is left out (add it back when it should take traffic)`);
  if (check !== undefined) server['check'] = check;
  return server;
}

/** Maps `virtual_server` blocks onto the instances holding their VIPs. */
export function mapServices(sink: Sink, blocks: readonly KaNode[], instances: readonly InstanceBuild[]): void {
  for (const node of blocks) {
    const a = parseAddress(node.args[0] ?? '');
    if (!a.ok) { sink.warn(node, [], `${a.reason} (fwmark and group services have no haagent equivalent)`); continue; }
    const owner = instances.find((b) => b.vips.includes(a.address));
    if (owner === undefined) { sink.warn(node, [], `${a.address} is not a VIP of any vrrp_instance: haagent balances on an instance's VIPs only`); continue; }
    const done = (owner.out['virtual-services'] as Record<string, unknown>[] | undefined)?.length ?? 0;
    const path: PathSegment[] = [...owner.path, 'virtual-services', done];
    const portText = node.args[1] ?? '';
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) { sink.warn(node, owner.path, 'the port must be 1..65535'); continue; }
    const port = Number(portText);
    let intervalMs = DEFAULT_DELAY_MS;
    const delay = node.children?.find((o) => o.name === 'delay_loop');
    if (delay !== undefined) intervalMs = sink.seconds(delay, path) ?? intervalMs;
    if (delay !== undefined && intervalMs < 100) {
      sink.warn(delay, path, 'haagent checks at most every 100ms; 100ms used');
      intervalMs = 100;
    }
    const mark = sink.comments.length;
    const svc: Record<string, unknown> = { vip: a.address, port };
    const servers: Record<string, unknown>[] = [];
    let skip = false;
    for (const o of node.children ?? []) {
      switch (o.name) {
        case 'delay_loop': break;
        case 'lb_algo': case 'lvs_sched': {
          const s = SCHEDULERS[o.args[0] ?? ''];
          if (s === undefined) sink.warn(o, path, 'only rr, wrr and sh map (round-robin, weighted, source-hash); round-robin used');
          else svc['scheduler'] = s;
          break;
        }
        case 'lb_kind': case 'lvs_method':
          if (o.args[0] !== 'NAT') sink.warn(o, path, 'haagent forwards like NAT (DNAT, replies back through the master); DR and TUN do not map');
          break;
        case 'protocol':
          if (o.args[0] !== 'TCP') { sink.warn(o, path, 'haagent balances TCP only; this service is not imported'); skip = true; }
          break;
        case 'ha_suspend':
          sink.note(path, 'ha_suspend: haagent programs a service only while master anyway');
          break;
        case 'real_server': {
          const mark = sink.comments.length;
          const r = realServer(sink, o, port, intervalMs, [...path, 'real-servers', servers.length]);
          if (r !== undefined) servers.push(r);
          else sink.repath(mark, path);
          break;
        }
        default: sink.warn(o, path, 'not mapped');
      }
    }
    if (servers.length === 0 && !skip) sink.warn(node, owner.path, 'has no real server that could be imported (see the warnings above: unmappable, or drained with weight 0); the service is left out');
    if (skip || servers.length === 0) { sink.repath(mark, owner.path); continue; }
    svc['real-servers'] = servers;
    const list = (owner.out['virtual-services'] ??= []) as Record<string, unknown>[];
    list.push(svc);
  }
}
