/**
 * Each mapping rule of the keepalived importer: a keepalived fragment and the haagent values it
 * must give, and every option that does not map reported with its file and line.
 */
import t from 'tap';
import { mapKeepalived, type ImportResult } from '../../../src/core/import/map.js';
import { parseKeepalivedText } from '../../../src/core/import/parse.js';
import { validateConfig } from '../../../src/core/config/validate.js';

const PATHS: Readonly<Record<string, string>> = { killall: '/usr/bin/killall', pidof: '/bin/pidof' };

function conv(text: string): ImportResult {
  const p = parseKeepalivedText(text, 'k.conf');
  if (p.problems.length > 0) throw new Error(p.problems.map((x) => x.message).join('; '));
  return mapKeepalived(p.nodes, { resolveCommand: (n) => PATHS[n] });
}
const inst = (r: ImportResult, i = 0): Record<string, unknown> => ((r.config['instances'] as Record<string, unknown>[])[i] ?? {});
const warned = (r: ImportResult): string[] => r.warnings.map((w) => `${w.at.file}:${w.at.line} ${w.option}: ${w.message}`);
const vi = (body: string, extra = ''): string => `${extra}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    192.0.2.10/24\n  }\n${body}\n}\n`;

t.test('the basic instance: keepalived defaults written out', (t) => {
  const r = conv(vi(''));
  t.same(inst(r), {
    name: 'VI_1', vrid: 51, interface: 'eth0', vips: ['192.0.2.10/24'], priority: 100,
    'vrrp-version': 2, 'advert-interval': '1s', preempt: true,
  });
  t.same(r.warnings, []);
  t.match(r.comments, [{ path: ['instances', 0], text: 'from vrrp_instance VI_1 (k.conf:2)' }]);
  t.end();
});

t.test('state, priority, advert_int (sub-second with v3), version, nopreempt, preempt_delay', (t) => {
  const r = conv(vi('  state BACKUP\n  priority 90\n  advert_int 0.25\n  version 3\n  nopreempt\n  preempt_delay 30'));
  t.match(inst(r), { role: 'backup', priority: 90, 'vrrp-version': 3, 'advert-interval': '250ms', preempt: false });
  t.equal(inst(r)['preempt-delay'], undefined, 'keepalived ignores preempt_delay with nopreempt');
  t.match(inst(conv(vi('  state BACKUP\n  preempt_delay 30'))), { preempt: true, 'preempt-delay': '30s' });
  t.match(inst(conv(vi('  state MASTER'))), { role: 'master', preempt: true });
  t.match(inst(conv(vi('', 'global_defs {\n  vrrp_version 3\n}'))), { 'vrrp-version': 3 }, 'global vrrp_version');
  const v2 = conv(vi('  advert_int 0.5'));
  t.match(inst(v2), { 'vrrp-version': 2, 'advert-interval': '1s' });
  t.match(warned(v2), [/VRRPv2 advertises whole seconds; 1s used/]);
  t.end();
});

t.test('advert_int rounded and clamped as keepalived does, with a warning', (t) => {
  for (const [text, want] of [['1.4', '1s'], ['0.4', '1s'], ['1.5', '2s'], ['2.6', '3s']] as const) {
    const r = conv(vi(`  advert_int ${text}`));
    t.match(inst(r), { 'vrrp-version': 2, 'advert-interval': want }, `VRRPv2 ${text}`);
    t.match(warned(r), [new RegExp(`advert_int ${text.replace('.', '\\.')}: VRRPv2 advertises whole seconds; ${want} used, the nearest whole second`)]);
  }
  const fine = conv(vi('  advert_int 0.25\n  version 3'));
  t.same(fine.warnings, [], 'a whole number of centiseconds fits VRRPv3');
  const cs = conv(vi('  advert_int 0.005\n  version 3'));
  t.match(inst(cs), { 'advert-interval': '10ms' });
  t.match(warned(cs), [/advert_int 0\.005: VRRPv3 advertises whole centiseconds from 0\.01 to 40\.95 seconds; 10ms used/]);
  const big = conv(vi('  advert_int 41\n  version 3'));
  t.match(inst(big), { 'advert-interval': '40950ms' });
  t.match(warned(big), [/advert_int 41: VRRPv3 .*40950ms used/]);
  const odd = conv(vi('  advert_int 0.123\n  version 3'));
  t.match(inst(odd), { 'advert-interval': '120ms' });
  t.match(warned(odd), [/advert_int 0\.123: .*120ms used/]);
  t.end();
});

t.test('a vrrp_script timeout over its interval is capped with a warning', (t) => {
  const r = conv(vi('  track_script {\n    s\n  }', 'vrrp_script s {\n  script /bin/true\n  interval 2\n  timeout 5\n}\n'));
  t.match((inst(r)['checks'] as unknown[])[0], { interval: '2s', timeout: '2s' });
  t.match(warned(r), [/^k\.conf:4 timeout 5: vrrp_script s: timeout 5s does not fit haagent \(10ms up to the interval, 2s\); 2s used/]);
  const ok = conv(vi('  track_script {\n    s\n  }', 'vrrp_script s {\n  script /bin/true\n  interval 2\n  timeout 1\n}\n'));
  t.same(ok.warnings, [], 'a timeout within the interval is kept silently');
  t.match((inst(ok)['checks'] as unknown[])[0], { timeout: '1s' });
  t.end();
});

t.test('nopreempt and preempt_delay cleared where keepalived clears them, with a warning', (t) => {
  const master = conv(vi('  state MASTER\n  nopreempt\n  preempt_delay 10'));
  t.match(inst(master), { role: 'master', preempt: true });
  t.equal(inst(master)['preempt-delay'], undefined);
  t.match(warned(master), [/^k\.conf:9 nopreempt: state MASTER: keepalived ignores nopreempt/, /^k\.conf:10 preempt_delay 10: state MASTER: keepalived ignores preempt_delay/]);
  const owner = conv(vi('  state BACKUP\n  priority 255\n  nopreempt'));
  t.match(inst(owner), { priority: 255, preempt: true });
  t.match(warned(owner), [/^k\.conf:10 nopreempt: priority 255 \(address owner\) always preempts/]);
  const both = conv(vi('  state BACKUP\n  nopreempt\n  preempt_delay 10'));
  t.match(inst(both), { preempt: false });
  t.equal(inst(both)['preempt-delay'], undefined);
  t.match(warned(both), [/^k\.conf:10 preempt_delay 10: nopreempt: keepalived ignores preempt_delay when nopreempt is set/]);
  const kept = conv(vi('  state BACKUP\n  preempt_delay 10'));
  t.match(inst(kept), { preempt: true, 'preempt-delay': '10s' });
  t.same(kept.warnings, []);
  t.end();
});

t.test('unicast: peers mapped, unicast_src_ip reported', (t) => {
  const r = conv(vi('  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n    10.0.0.3\n  }'));
  t.same(inst(r)['peers'], ['10.0.0.2', '10.0.0.3']);
  t.match(warned(r), [/^k\.conf:8 unicast_src_ip 10\.0\.0\.1: haagent sends from the heartbeat interface/]);
  t.end();
});

t.test('authentication PASS; a long password cut to 8 bytes as keepalived does; AH reported', (t) => {
  t.same(inst(conv(vi('  authentication {\n    auth_type PASS\n    auth_pass s3cret\n  }')))['auth'], { type: 'pass', password: 's3cret' });
  const long = conv(vi('  authentication {\n    auth_type PASS\n    auth_pass 0123456789\n  }'));
  t.same(inst(long)['auth'], { type: 'pass', password: '01234567' });
  t.same(long.warnings, []);
  const ah = conv(vi('  authentication {\n    auth_type AH\n    auth_pass secretvalue\n  }'));
  t.equal(inst(ah)['auth'], undefined);
  t.match(warned(ah), [/only PASS maps/]);
  t.notMatch(JSON.stringify(ah.comments), /secretvalue/, 'the password is not echoed');
  t.end();
});

t.test('extra words after a secret are never shown', (t) => {
  const r = conv(vi('  authentication {\n    auth_type PASS\n    auth_pass pwAlpha pwBravo pwCharlie\n  }'));
  t.same(inst(r)['auth'], { type: 'pass', password: 'pwAlpha' });
  t.match(warned(r), [/auth_pass …: takes one value; 2 more word\(s\) ignored \(not shown: a secret\)/]);
  t.notMatch(JSON.stringify([r.warnings, r.comments]), /pwAlpha|pwBravo|pwCharlie/);
  t.end();
});

t.test('a multi-byte auth_pass is cut at 8 bytes as keepalived does, or reported when the cut splits a character', (t) => {
  const pass = (p: string): ImportResult => conv(vi(`  authentication {\n    auth_type PASS\n    auth_pass ${p}\n  }`));
  const even = pass('ééééé'); // 10 bytes; the 8-byte cut ends after the 4th é
  t.same(inst(even)['auth'], { type: 'pass', password: 'éééé' });
  t.same(even.warnings, []);
  const split = pass('aéééé'); // 9 bytes; the 8th byte is the first half of the 4th é
  t.equal(inst(split)['auth'], undefined);
  t.match(warned(split), [/auth_pass is longer than 8 bytes .* inside a multi-byte character: haagent cannot write that password/]);
  t.notMatch(JSON.stringify([split.warnings, split.comments]), /é/, 'no part of the password is shown');
  t.end();
});

t.test('virtual_ipaddress: no prefix = host route, dev -> external, label, IPv6 -> VRRPv3', (t) => {
  const r = conv('vrrp_instance A {\n interface eth1\n virtual_router_id 7\n virtual_ipaddress {\n  192.0.2.10 dev eth0 label eth0:vip\n  192.0.2.11/24 dev eth0\n }\n}\n');
  t.match(inst(r), { interface: 'eth1', external: 'eth0', vips: ['192.0.2.10/32', '192.0.2.11/24'], 'vip-label': 'eth0:vip' });
  t.same(r.warnings, []);
  const v6 = conv('vrrp_instance B {\n interface eth1\n virtual_router_id 8\n virtual_ipaddress {\n  2001:db8::10/64\n  192.0.2.5/24\n }\n}\n');
  t.match(inst(v6), { vips: ['2001:db8::10/64'], 'vrrp-version': 3 });
  t.match(warned(v6), [/^k\.conf:6 192\.0\.2\.5\/24: IPv4 beside IPv6/]);
  const mixed = conv('vrrp_instance C {\n interface eth1\n virtual_router_id 9\n virtual_ipaddress {\n  192.0.2.1/24 dev eth2\n  192.0.2.2/24 dev eth3\n  192.0.2.3/24 brd 192.0.2.255\n }\n}\n');
  t.same(inst(mixed)['vips'], ['192.0.2.1/24']);
  t.match(warned(mixed), [/on eth3, but this instance's other VIPs are on eth2/, /"brd 192\.0\.2\.255" not mapped/, /on eth1, but/]);
  t.end();
});

t.test('vrrp_script + track_script: argv without a shell, keepalived defaults, weights both ways', (t) => {
  const scripts = 'vrrp_script up {\n  script "/usr/bin/test -f /run/up"\n  interval 2\n  timeout 5\n  rise 3\n  fall 2\n  weight 10\n}\n'
    + 'vrrp_script down {\n  script "killall -0 haproxy"\n  weight -20\n}\nvrrp_script hard {\n  script /bin/true\n}\n';
  const r = conv(vi('  priority 100\n  track_script {\n    up\n    down\n    hard\n    down weight -5\n  }', scripts));
  t.same(inst(r)['checks'], [
    { name: 'up', type: 'exec', command: ['/usr/bin/test', '-f', '/run/up'], interval: '2s', timeout: '2s', rise: 3, fall: 2, weight: 10 },
    { name: 'down', type: 'exec', command: ['/usr/bin/killall', '-0', 'haproxy'], interval: '1s', timeout: '1s', rise: 1, fall: 1, weight: 20 },
    { name: 'hard', type: 'exec', command: ['/bin/true'], interval: '1s', timeout: '1s', rise: 1, fall: 1, weight: 0 },
    { name: 'down-2', type: 'exec', command: ['/usr/bin/killall', '-0', 'haproxy'], interval: '1s', timeout: '1s', rise: 1, fall: 1, weight: 5 },
  ]);
  // keepalived: up adds 10 while up -> base 110 healthy, 100 when it fails: haagent priority 110, weight 10.
  t.equal(inst(r)['priority'], 110);
  t.match(warned(r), [/^k\.conf:4 timeout 5: vrrp_script up: timeout 5s does not fit haagent .*; 2s used/], 'the timeout over the interval is capped with a warning');
  t.equal(r.warnings.length, 1);
  t.match(r.comments.map((c) => c.text).filter((c) => !c.startsWith('NOT MAPPED')), [/"killall" resolved to \/usr\/bin\/killall/]);
  t.end();
});

t.test('positive weights over 254 are capped and reported; reverse is reported', (t) => {
  const r = conv(vi('  priority 250\n  track_script {\n    a\n    b reverse\n  }', 'vrrp_script a {\n script /bin/true\n weight 50\n}\nvrrp_script b {\n script /bin/true\n}\n'));
  t.equal(inst(r)['priority'], 254);
  t.match(warned(r), [/"reverse".*not tracked/, /priority 250 \+ positive weights 50 = 300: capped at 254/]);
  t.end();
});

t.test('scripts that need a shell, or are not found, are reported and not tracked', (t) => {
  const r = conv(vi('  track_script {\n    piped\n    nowhere\n    missing\n  }', 'vrrp_script piped {\n  script "pidof haproxy | wc -l"\n}\nvrrp_script nowhere {\n  script "nosuchcmd -x"\n}\n'));
  t.equal(inst(r)['checks'], undefined);
  t.match(warned(r), [
    /^k\.conf:2 script pidof haproxy \| wc -l: needs a shell: "\|"/,
    /^k\.conf:5 script nosuchcmd -x: "nosuchcmd" is not an absolute path and was not found on PATH/,
    /^k\.conf:\d+ piped: vrrp_script piped could not be mapped/,
    /^k\.conf:\d+ nowhere: vrrp_script nowhere could not be mapped/,
    /^k\.conf:\d+ missing: no vrrp_script named "missing"/,
  ]);
  t.end();
});

t.test('track_interface and track_file', (t) => {
  const r = conv(vi('  track_interface {\n    eth1\n    eth2 weight -30\n    eth3 weight 5\n  }\n  track_file {\n    bias\n    scaled weight 2\n  }',
    'vrrp_track_file bias {\n  file /run/bias\n}\nvrrp_track_file scaled {\n  file /run/scaled\n}\n'));
  t.same(inst(r)['checks'], [
    { name: 'if-eth1', type: 'interface', interface: 'eth1', weight: 0 },
    { name: 'if-eth2', type: 'interface', interface: 'eth2', weight: 30 },
    { name: 'if-eth3', type: 'interface', interface: 'eth3', weight: 5 },
    { name: 'file-bias', type: 'file', path: '/run/bias' },
  ]);
  t.equal(inst(r)['priority'], 105);
  t.match(warned(r), [/scaled weight 2: weight 2: keepalived adds the file's value times the weight/]);
  t.end();
});

t.test('notify_* become argv hooks; notify is mapped per state and its difference reported', (t) => {
  const r = conv(vi('  notify_master "/etc/keepalived/up.sh --vip 1"\n  notify_fault /etc/keepalived/fault.sh\n  notify /usr/local/bin/notify'));
  t.same(inst(r)['hooks'], {
    master: ['/etc/keepalived/up.sh', '--vip', '1'],
    fault: ['/etc/keepalived/fault.sh'],
    backup: ['/usr/local/bin/notify', 'INSTANCE', 'VI_1', 'BACKUP'],
    stop: ['/usr/local/bin/notify', 'INSTANCE', 'VI_1', 'STOP'],
  });
  t.match(warned(r), [/notify \/usr\/local\/bin\/notify: keepalived calls it as SCRIPT INSTANCE NAME STATE PRIORITY/, /a master hook is already set/, /a fault hook is already set/]);
  const shell = conv(vi('  notify_backup "/bin/echo backup > /tmp/state"'));
  t.equal(inst(shell)['hooks'], undefined);
  t.match(warned(shell), [/needs a shell: ">"/]);
  t.end();
});

t.test('global_defs: garp settings mapped (instance ones win), the rest reported', (t) => {
  const r = conv(vi('  garp_master_refresh 60', 'global_defs {\n  router_id lb1\n  vrrp_garp_master_repeat 3\n  vrrp_garp_interval 0.01\n  vrrp_garp_master_refresh 10\n  script_user nobody\n  notification_email {\n    a@b\n  }\n}'));
  t.same(inst(r)['garp'], { burst: 3, 'burst-interval': '10ms', refresh: '60s' });
  t.match(warned(r), [/^k\.conf:2 router_id lb1/, /^k\.conf:6 script_user nobody: haagent runs hooks/, /^k\.conf:7 notification_email: not mapped/]);
  t.end();
});

t.test('vrrp_sync_group: tracking copied to each member, the group semantics reported', (t) => {
  const text = `${vi('')}vrrp_instance VI_2 {\n interface eth1\n virtual_router_id 52\n virtual_ipaddress {\n  10.0.0.1/24\n }\n}\n`
    + 'vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n    VI_9\n  }\n  track_interface {\n    eth5\n  }\n  notify_master /bin/true\n}\n';
  const r = conv(text);
  t.same(inst(r, 0)['checks'], [{ name: 'if-eth5', type: 'interface', interface: 'eth5', weight: 0 }]);
  t.same(inst(r, 1)['checks'], [{ name: 'if-eth5', type: 'interface', interface: 'eth5', weight: 0 }]);
  t.match(warned(r), [/no vrrp_instance named "VI_9"/, /vrrp_sync_group G: haagent has no sync groups/, /group notify scripts do not map/]);
  t.end();
});

const TRACKED = 'vrrp_script w {\n  script /bin/true\n  weight -20\n}\nvrrp_script z {\n  script /bin/true\n}\nvrrp_track_file f {\n  file /run/f\n}\n';
const TRACKING = '  track_script {\n    w\n    z\n  }\n  track_interface {\n    eth1\n    eth2 weight -10\n  }\n  track_file {\n    f\n  }';

t.test('address owner (priority 255): weighted tracking left out as keepalived ignores it; weight 0 kept', (t) => {
  const r = conv(vi(`  priority 255\n${TRACKING}`, TRACKED));
  t.equal(inst(r)['priority'], 255);
  t.same((inst(r)['checks'] as Record<string, unknown>[]).map((c) => [c['name'], c['weight']]), [['z', 0], ['if-eth1', 0]]);
  t.match(warned(r), [
    /w: weight -20: keepalived ignores weighted tracking for an address owner \(priority 255\); not tracked/,
    /eth2 weight -10: weight -10: keepalived ignores weighted tracking for an address owner .*; not tracked/,
    /f: weight 1: keepalived ignores weighted tracking for an address owner .*keepalived uses weight 0 .*; not tracked/,
  ]);
  t.equal(r.warnings.length, 3, 'no other warning (the old "compare with keepalived" text is gone)');
  const plain = conv(vi(`  priority 200\n${TRACKING}`, TRACKED));
  t.same((inst(plain)['checks'] as Record<string, unknown>[]).map((c) => [c['name'], c['weight']]), [['w', 20], ['z', 0], ['if-eth1', 0], ['if-eth2', 10], ['file-f', undefined]]);
  t.end();
});

t.test('vrrp_sync_group members: own weighted tracking ignored unless sync_group_tracking_weight; group tracking of an owner weight 0', (t) => {
  const two = (body1: string, group: string, p1 = 100): string => `${TRACKED}${vi(`  priority ${p1}\n${body1}`)}vrrp_instance VI_2 {\n interface eth1\n virtual_router_id 52\n virtual_ipaddress {\n  10.0.0.1/24\n }\n}\n`
    + `vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n${group}}\n`;
  const r = conv(two(TRACKING, ''));
  t.same((inst(r)['checks'] as Record<string, unknown>[]).map((c) => [c['name'], c['weight']]), [['z', 0], ['if-eth1', 0], ['if-eth2', 0]]);
  t.match(warned(r).filter((w) => / w: | eth2 | f: /.test(w)), [
    /w: weight -20: keepalived ignores weighted tracking of a vrrp_sync_group member unless the group sets sync_group_tracking_weight; not tracked/,
    /eth2 weight -10: weight -10: .*sync_group_tracking_weight; weight 0 used \(FAULT while down\)/,
    /f: weight 1: .*sync_group_tracking_weight; keepalived uses weight 0/,
  ]);
  const kept = conv(two(TRACKING, '  sync_group_tracking_weight\n'));
  t.same((inst(kept)['checks'] as Record<string, unknown>[]).map((c) => [c['name'], c['weight']]), [['w', 20], ['z', 0], ['if-eth1', 0], ['if-eth2', 10], ['file-f', undefined]]);
  t.notMatch(warned(kept).join('\n'), /sync_group_tracking_weight/, 'the option itself is honoured, not reported');
  const owner = conv(two('', '  track_script {\n    w\n  }\n', 255));
  t.same(inst(owner, 0)['checks'], inst(owner, 1)['checks']);
  t.match(inst(owner, 1)['checks'], [{ name: 'w', weight: 0 }]);
  t.match(warned(owner).filter((w) => / w: /.test(w)), [/w: weight -20: keepalived clears the weights of a sync group's tracking when a member has priority 255; weight 0 used/]);
  t.end();
});

t.test('virtual_server: schedulers, NAT, TCP_CHECK and HTTP_GET; the rest reported', (t) => {
  const vs = 'virtual_server 192.0.2.10 443 {\n  delay_loop 10\n  lb_algo sh\n  lb_kind NAT\n  protocol TCP\n  persistence_timeout 300\n'
    + '  real_server 10.0.0.11 8443 {\n    weight 3\n    TCP_CHECK {\n      connect_timeout 2\n      connect_port 9000\n      retry 2\n    }\n  }\n'
    + '  real_server 10.0.0.12 8443 {\n    HTTP_GET {\n      url {\n        path /healthz\n        status_code 204\n      }\n    }\n    SSL_GET {\n    }\n  }\n}\n'
    + 'virtual_server 192.0.2.99 80 {\n  real_server 10.0.0.1 80 {\n  }\n}\n'
    + 'virtual_server 192.0.2.10 53 {\n  protocol UDP\n  real_server 10.0.0.1 53 {\n  }\n}\n'
    + 'virtual_server 192.0.2.10 80 {\n  lb_algo lc\n  lb_kind DR\n  real_server 10.0.0.1 80 {\n  }\n}\n';
  const r = conv(`${vi('')}${vs}`);
  t.same(inst(r)['virtual-services'], [
    {
      vip: '192.0.2.10', port: 443, scheduler: 'source-hash', 'real-servers': [
        { address: '10.0.0.11', port: 8443, weight: 3, check: { type: 'tcp', host: '10.0.0.11', port: 9000, interval: '10s', timeout: '2s', rise: 1, fall: 3 } },
        { address: '10.0.0.12', port: 8443, check: { type: 'http', url: 'http://10.0.0.12:8443/healthz', 'expect-status': [204], interval: '10s', timeout: '5s', rise: 1, fall: 2 } },
      ],
    },
    { vip: '192.0.2.10', port: 80, 'real-servers': [{ address: '10.0.0.1', port: 80 }] },
  ]);
  t.match(warned(r), [
    /persistence_timeout 300: not mapped/,
    /SSL_GET: SSL_GET has no haagent equivalent/,
    /virtual_server 192\.0\.2\.99 80: 192\.0\.2\.99 is not a VIP of any vrrp_instance/,
    /protocol UDP: haagent balances TCP only/,
    /lb_algo lc: only rr, wrr and sh map/,
    /lb_kind DR: haagent forwards like NAT/,
  ]);
  t.end();
});

t.test('a real_server with weight 0 (drained) is left out, not given weight 1', (t) => {
  const vs = 'virtual_server 192.0.2.10 443 {\n  real_server 10.0.0.11 443 {\n    weight 0\n  }\n  real_server 10.0.0.12 443 {\n    weight 2\n  }\n}\n'
    + 'virtual_server 192.0.2.10 80 {\n  real_server 10.0.0.11 80 {\n    weight 0\n  }\n}\n';
  const r = conv(`${vi('')}${vs}`);
  t.same(inst(r)['virtual-services'], [{ vip: '192.0.2.10', port: 443, 'real-servers': [{ address: '10.0.0.12', port: 443, weight: 2 }] }]);
  t.match(warned(r), [
    /^k\.conf:12 weight 0: real_server 10\.0\.0\.11 443 has weight 0 \(drained.*left out/,
    /^k\.conf:20 weight 0: real_server 10\.0\.0\.11 80 has weight 0/,
    /^k\.conf:18 virtual_server 192\.0\.2\.10 80: has no real server that could be imported .*drained.*the service is left out/,
  ]);
  t.end();
});

t.test('unknown options and blocks are reported with file and line, never dropped silently', (t) => {
  const r = conv(vi('  smtp_alert\n  use_vmac vrrp51', 'static_ipaddress {\n 10.1.1.1/24 dev eth0\n}\nstray_option 1'));
  t.match(warned(r), [/^k\.conf:11 smtp_alert: not mapped/, /^k\.conf:12 use_vmac vrrp51: not mapped/, /^k\.conf:1 static_ipaddress: not mapped: haagent has no such block/, /^k\.conf:4 stray_option 1: not mapped/]);
  t.equal(r.warnings.length, 4);
  for (const w of r.warnings) t.ok(r.comments.some((c) => c.text.startsWith(`NOT MAPPED k.conf:${w.at.line}: `)), `comment for line ${w.at.line}`);
  t.end();
});

t.test('v3_checksum_as_v2 and owner_ignore_adverts map where keepalived applies them, and are reported where it ignores them', (t) => {
  const v3 = conv(vi('  version 3\n  v3_checksum_as_v2'));
  t.equal(inst(v3)['v3-checksum'], 'message');
  t.same(v3.warnings, []);
  const v2 = conv(vi('  v3_checksum_as_v2'));
  t.equal(inst(v2)['v3-checksum'], undefined, 'VRRPv2: nothing to change');
  t.match(warned(v2), [/k\.conf:\d+ v3_checksum_as_v2: applies to VRRPv3 over IPv4 only/]);
  const owner = conv(vi('  version 3\n  priority 255\n  owner_ignore_adverts'));
  t.equal(inst(owner)['owner-ignore-adverts'], true);
  t.same(owner.warnings, []);
  for (const r of [v3, owner]) t.ok(validateConfig(r.config).ok, 'the imported config validates');
  const notOwner = conv(vi('  version 3\n  priority 200\n  owner_ignore_adverts'));
  t.equal(inst(notOwner)['owner-ignore-adverts'], undefined);
  t.match(warned(notOwner), [/owner_ignore_adverts: applies to the address owner \(priority 255\) only/]);
  t.end();
});

t.test('IPv6 unicast: unicast-ttl-check false, as keepalived checks no hop limit on unicast; IPv4 unicast and IPv6 multicast keep the check', (t) => {
  const v6 = (body: string): string => `vrrp_instance VI_6 {\n  interface eth0\n  virtual_router_id 52\n  version 3\n  virtual_ipaddress {\n    fd00::10/64\n  }\n${body}\n}\n`;
  const uni = conv(v6('  unicast_peer {\n    fe80::2\n  }'));
  t.match(inst(uni), { peers: ['fe80::2'], 'unicast-ttl-check': false });
  t.ok(validateConfig(uni.config).ok, 'the imported config validates');
  t.equal(inst(conv(v6('')))['unicast-ttl-check'], undefined, 'multicast: checked');
  t.equal(inst(conv(vi('  unicast_peer {\n    10.0.0.2\n  }')))['unicast-ttl-check'], undefined, 'IPv4 unicast: keepalived sends TTL 255');
  t.end();
});
