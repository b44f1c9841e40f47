/**
 * Config of the VRRP hardening: `max-advert-interval` (the bound on an adopted v3 interval)
 * and the IPv6 unicast peers that the source filter compares adverts with.
 */
import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

function one(extra: string, vips = '[10.0.0.1/24]'): ReturnType<typeof parseConfigYaml> {
  return parseConfigYaml(`instances:\n  - {vrid: 1, interface: eth0, vips: ${vips}${extra}}\n`);
}
function errors(r: ReturnType<typeof parseConfigYaml>): string {
  return r.ok ? '' : r.errors.map((e) => e.message).join('\n');
}

t.test('max-advert-interval defaults to 3 x advert-interval, at least 1 s, at most 40.95 s', (t) => {
  for (const [interval, expected] of [['100ms', 100], ['330ms', 100], ['340ms', 102], ['1s', 300], ['20s', 4095], ['40.95s', 4095], ['10ms', 100]] as const) {
    const r = one(`, advert-interval: ${interval}`);
    t.ok(r.ok, errors(r));
    if (r.ok) t.equal(r.config.instances[0]?.maxAdvertIntervalCs, expected, interval);
  }
  const v2 = one(', vrrp-version: 2, advert-interval: 3s');
  if (v2.ok) t.equal(v2.config.instances[0]?.maxAdvertIntervalCs, 300, 'v2: its own interval (never adopts)');
  else t.fail(errors(v2));
  t.end();
});

t.test('max-advert-interval is taken as given within [advert-interval, 40.95s]', (t) => {
  for (const [value, expected] of [['1s', 100], ['100ms', 10], ['40.95s', 4095], ['250ms', 25]] as const) {
    const r = one(`, advert-interval: 100ms, max-advert-interval: ${value}`);
    t.ok(r.ok, errors(r));
    if (r.ok) t.equal(r.config.instances[0]?.maxAdvertIntervalCs, expected, value);
  }
  t.end();
});

t.test('max-advert-interval out of range, off the 10 ms grid or on v2 is refused with the key path', (t) => {
  t.match(errors(one(', advert-interval: 1s, max-advert-interval: 500ms')), /instances\[0\]\.max-advert-interval.*between this instance's advert-interval \(1000 ms\) and 40\.95s, got 500 ms/);
  t.match(errors(one(', max-advert-interval: 41s')), /max-advert-interval.*got 41000 ms/);
  t.match(errors(one(', max-advert-interval: 1005ms')), /max-advert-interval.*multiple of 10ms/);
  t.match(errors(one(', max-advert-interval: soon')), /max-advert-interval/);
  t.match(errors(one(', vrrp-version: 2, max-advert-interval: 3s')), /max-advert-interval.*VRRPv3 only/);
  t.end();
});

t.test('IPv6 unicast peers must be link-local (adverts come from the link-local address)', (t) => {
  const ok = one(', peers: ["FE80::1", "fe80::a8c1:abff:fe00:12"]', '["fd00::10/64"]');
  t.ok(ok.ok, errors(ok));
  if (ok.ok) t.same(ok.config.instances[0]?.peers, ['fe80::1', 'fe80::a8c1:abff:fe00:12'], 'canonical text');
  t.ok(one(', peers: ["febf::1"]', '["fd00::10/64"]').ok, 'all of fe80::/10');
  t.match(errors(one(', peers: ["fd00::2"]', '["fd00::10/64"]')), /instances\[0\]\.peers\[0\].*fd00::2 is not link-local/);
  t.match(errors(one(', peers: ["fec0::2"]', '["fd00::10/64"]')), /peers\[0\].*not link-local/);
  t.ok(one(', peers: [10.0.0.2]').ok, 'IPv4 peers are any address');
  t.end();
});
