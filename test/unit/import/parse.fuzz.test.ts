/**
 * Seeded fuzzing of the keepalived importer: random keepalived-ish text, and a real config
 * mutated as text. Whatever the input, the parser returns (never throws) with every problem
 * located in a file and a line of it, and the mapper and printer return text for whatever the
 * parser accepted. Bounded by runs and time so the file takes a few seconds.
 */
import t from 'tap';
import fc from 'fast-check';
import { parseKeepalivedText } from '../../../src/core/import/parse.js';
import { mapKeepalived } from '../../../src/core/import/map.js';
import { importYaml } from '../../../src/core/import/print.js';

const SEED = 20261130;
const TIME_LIMIT_MS = 1500;

const PIECES = [
  'vrrp_instance ', 'VI_1 ', '{', '}', '\n', ' ', '"', '\'', '!', '#', '\\', 'include x\n', 'interface eth0\n',
  'virtual_router_id 51\n', 'priority 300\n', 'advert_int 0.01\n', 'virtual_ipaddress {\n 10.0.0.1/24 dev eth1 label a\n}\n',
  'track_script {\n chk weight -300\n}\n', 'vrrp_script chk {\n script "/bin/a | b"\n weight x\n}\n', 'virtual_server 10.0.0.1 80 {\n',
  'real_server 1.2.3.4 99999 {\n', 'HTTP_GET {\n url {\n path x\n status_code 9\n}\n}\n', 'unicast_peer {\n fe80::1\n ::1\n}\n',
  'authentication {\n auth_type PASS\n auth_pass "\u00e9\u00e9\u00e9\u00e9\u00e9"\n}\n', 'vrrp_sync_group g {\n group {\n VI_1\n}\n}\n',
  'global_defs {\n vrrp_version 4\n}\n', 'notify "', '\u0000', '\r\n', 'state MASTER\n', 'nopreempt\n', '2001:db8::1/200\n',
];

const REAL = `global_defs {
  vrrp_garp_master_repeat 3
}
vrrp_script chk {
  script "/usr/bin/killall -0 haproxy"
  weight 2
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 101
  unicast_peer {
    10.0.0.2
  }
  virtual_ipaddress {
    10.0.0.100/24 dev eth1
  }
  track_script {
    chk
  }
  notify_master "/etc/keepalived/master.sh now"
}
virtual_server 10.0.0.100 80 {
  lb_algo rr
  real_server 10.0.1.1 8080 {
    TCP_CHECK {
      connect_timeout 3
    }
  }
}
`;

function holds(text: string): boolean {
  const r = parseKeepalivedText(text, 'f.conf');
  for (const p of r.problems) {
    if (p.at.file !== 'f.conf' || !Number.isInteger(p.at.line) || p.at.line < 1) return false;
    if (typeof p.message !== 'string' || p.message === '') return false;
  }
  const m = mapKeepalived(r.nodes, { resolveCommand: () => undefined });
  for (const w of m.warnings) if (w.at.file !== 'f.conf' || w.at.line < 1 || w.option.length > 121) return false;
  return typeof importYaml(m, ['fuzz']) === 'string';
}

const run = <T>(arb: fc.Arbitrary<T>, toText: (v: T) => string, numRuns: number): void => {
  fc.assert(fc.property(arb, (v) => holds(toText(v))), { seed: SEED, numRuns, interruptAfterTimeLimit: TIME_LIMIT_MS });
};

t.test('keepalived-ish pieces in any order', (t) => {
  run(fc.array(fc.constantFrom(...PIECES), { maxLength: 150 }), (p) => p.join(''), 400);
  t.pass('never threw');
  t.end();
});

t.test('any string', (t) => {
  run(fc.string({ maxLength: 400, unit: 'binary' }), (s) => s, 400);
  t.pass('never threw');
  t.end();
});

t.test('a real config mutated as text', (t) => {
  const edit = fc.record({ at: fc.nat({ max: REAL.length }), len: fc.nat({ max: 40 }), insert: fc.constantFrom(...PIECES) });
  run(fc.array(edit, { maxLength: 8 }), (edits) => edits.reduce((s, e) => `${s.slice(0, e.at)}${e.insert}${s.slice(e.at + e.len)}`, REAL), 400);
  t.pass('never threw');
  t.end();
});
