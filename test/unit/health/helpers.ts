import type { CheckConfig } from '../../../src/core/config/types.js';

type Common = Pick<CheckConfig, 'name' | 'intervalMs' | 'timeoutMs' | 'rise' | 'fall' | 'weight'>;

const COMMON: Common = { name: 'c', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2, weight: 0 };

export function httpCheck(url: string, o: Partial<Common> & { expectStatus?: readonly number[]; bodyContains?: string } = {}): Extract<CheckConfig, { type: 'http' }> {
  const { expectStatus = [200], bodyContains, ...common } = o;
  return { ...COMMON, name: 'web', ...common, type: 'http', url, expectStatus, bodyContains };
}

export function tcpCheck(host: string, port: number, o: Partial<Common> = {}): Extract<CheckConfig, { type: 'tcp' }> {
  return { ...COMMON, name: 'tcp', ...o, type: 'tcp', host, port };
}

export function execCheck(command: readonly string[], o: Partial<Common> = {}): Extract<CheckConfig, { type: 'exec' }> {
  return { ...COMMON, name: 'exec', ...o, type: 'exec', command };
}

export function fileCheck(path: string, o: Partial<Common> = {}): Extract<CheckConfig, { type: 'file' }> {
  return { ...COMMON, name: 'file', ...o, type: 'file', path };
}

export function ifaceCheck(ifname: string, o: Partial<Common> = {}): Extract<CheckConfig, { type: 'interface' }> {
  return { ...COMMON, name: `if-${ifname}`, ...o, type: 'interface', interface: ifname };
}

/** A signal that fires like a health-monitor timeout (TimeoutError reason) after `ms`. */
export function timeoutSignal(ms: number): AbortSignal {
  return AbortSignal.timeout(ms);
}

/** A signal that never fires. */
export function neverSignal(): AbortSignal {
  return new AbortController().signal;
}
