/**
 * keepalived's spellings of haagent config keys, for a "did you mean" when one is used in a
 * haagent YAML file. Data plus one lookup; the hint is given only when the suggested key is
 * allowed where the unknown one was found.
 */
const SPELLINGS: Readonly<Record<string, string>> = {
  advert_int: 'advert-interval',
  virtual_ipaddress: 'vips',
  virtual_router_id: 'vrid',
  auth_pass: 'password',
  auth_type: 'type',
  authentication: 'auth',
  auth_hmac: 'auth',
  unicast_peer: 'peers',
  unicast_peers: 'peers',
  vrrp_version: 'vrrp-version',
  version: 'vrrp-version',
  state: 'role',
  nopreempt: 'preempt',
  track_script: 'checks',
  track_interface: 'checks',
  track_file: 'checks',
  notify_master: 'hooks',
  notify_backup: 'hooks',
  notify_fault: 'hooks',
  notify_stop: 'hooks',
  vrrp_instance: 'instances',
  virtual_server: 'virtual-services',
  real_server: 'real-servers',
  lb_algo: 'scheduler',
  delay_loop: 'interval',
  connect_timeout: 'timeout',
  connect_port: 'port',
  status_code: 'expect-status',
  garp_master_repeat: 'burst',
  garp_interval: 'burst-interval',
  garp_master_refresh: 'refresh',
};

/**
 * `; did you mean "KEY"?` for a keepalived spelling (or an underscore spelling of an allowed
 * hyphenated key), or '' when there is nothing to suggest.
 */
export function keepalivedHint(key: string, allowed: ReadonlySet<string>): string {
  const known = SPELLINGS[key];
  if (known !== undefined && allowed.has(known)) return `; did you mean "${known}"? (keepalived spells it ${key})`;
  const hyphens = key.replace(/_/g, '-');
  if (hyphens !== key && allowed.has(hyphens)) return `; did you mean "${hyphens}"?`;
  return '';
}
