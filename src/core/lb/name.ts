/** How a virtual service is named in rule comments, messages, logs, events, status and metrics. */
import { hostPort } from '../packet/ip.js';

/** `vip:port/tcp`, or `[vip]:port/tcp` for an IPv6 VIP. */
export function serviceName(svc: { readonly vip: string; readonly port: number; readonly protocol: string }): string {
  return `${hostPort(svc.vip, svc.port)}/${svc.protocol}`;
}
