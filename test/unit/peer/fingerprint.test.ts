/**
 * Config fingerprint: the same settings give the same fingerprint on both nodes (golden value
 * cross-checked with Python's hashlib), every covered setting changes it, the password never
 * appears in it or in its canonical form.
 */
import fc from 'fast-check';
import t from 'tap';
import { configFingerprint, fingerprintCanonical, FINGERPRINT_HEX_LENGTH } from '../../../src/core/peer/fingerprint.js';
import type { FingerprintInput } from '../../../src/core/peer/fingerprint.js';
import { vipOf, type Vip } from '../../../src/core/net/address.js';

const v = (...cidrs: string[]): Vip[] => cidrs.map(vipOf);

const BASE: FingerprintInput = {
  vrid: 51,
  version: 3,
  vips: v('192.0.2.10/32', '10.0.0.100/24'),
  advertIntervalCs: 100,
  auth: { type: 'pass', password: 'secret12' },
};

t.test('golden: canonical JSON and its truncated SHA-256', async (t) => {
  t.equal(
    fingerprintCanonical(BASE),
    '{"schema":1,"vrid":51,"version":3,"vips":["10.0.0.100/24","192.0.2.10/32"],"advertIntervalCs":100,' +
      '"auth":{"type":"pass","passwordSha256":"3de9273e88d1153033fccc7574cc168a51022a55738bff6727ae581e8c19380f"}}',
  );
  t.equal(configFingerprint(BASE), 'ff832691a382fedf');
  t.equal(configFingerprint({ ...BASE, vips: v('10.0.0.100/24'), auth: { type: 'none' } }), 'ceae9bd76d0eeb82');
  t.match(configFingerprint(BASE), new RegExp(`^[0-9a-f]{${FINGERPRINT_HEX_LENGTH}}$`));
});

t.test('stable: same settings, same fingerprint, whatever else the instance carries', async (t) => {
  const other = { ...BASE, name: 'other', priority: 10, interface: 'eth9' } as FingerprintInput;
  t.equal(configFingerprint(other), configFingerprint(BASE));
  t.equal(configFingerprint({ ...BASE }), configFingerprint(BASE));
});

t.test('the VIPs are a set: order, duplicates and address spelling do not matter', async (t) => {
  t.equal(configFingerprint({ ...BASE, vips: v('10.0.0.100/24', '192.0.2.10/32') }), configFingerprint(BASE));
  t.equal(configFingerprint({ ...BASE, vips: v('10.0.0.100/24', '192.0.2.10/32', '10.0.0.100/24') }), configFingerprint(BASE));
  const v6 = { ...BASE, vips: v('2001:db8::10/64') };
  t.equal(configFingerprint({ ...BASE, vips: v('2001:DB8:0:0::10/64') }), configFingerprint(v6));
});

t.test('sensitive: each covered setting changes the fingerprint', async (t) => {
  const base = configFingerprint(BASE);
  const changes: Array<[string, FingerprintInput]> = [
    ['vrid', { ...BASE, vrid: 52 }],
    ['version', { ...BASE, version: 2 }],
    ['a VIP', { ...BASE, vips: v('192.0.2.11/32', '10.0.0.100/24') }],
    ['a prefix length', { ...BASE, vips: v('192.0.2.10/24', '10.0.0.100/24') }],
    ['a VIP less', { ...BASE, vips: v('10.0.0.100/24') }],
    ['advert interval', { ...BASE, advertIntervalCs: 200 }],
    ['password', { ...BASE, auth: { type: 'pass', password: 'secret13' } }],
    ['auth type', { ...BASE, auth: { type: 'none' } }],
  ];
  const seen = new Set([base]);
  for (const [what, inst] of changes) {
    const fp = configFingerprint(inst);
    t.not(fp, base, what);
    seen.add(fp);
  }
  t.equal(seen.size, changes.length + 1, 'all different from each other too');
});

t.test('the password itself never appears', async (t) => {
  const inst: FingerprintInput = { ...BASE, auth: { type: 'pass', password: 'hunter2' } };
  t.notMatch(fingerprintCanonical(inst), /hunter2/);
});

t.test('property: distinct settings give distinct fingerprints', async (t) => {
  const inst = fc.record({
    vrid: fc.integer({ min: 1, max: 255 }),
    version: fc.constantFrom(2 as const, 3 as const),
    vips: fc.uniqueArray(fc.integer({ min: 1, max: 254 }).map((n) => `10.0.0.${n}/24`), { minLength: 1, maxLength: 4 }).map((l) => l.map(vipOf)),
    advertIntervalCs: fc.integer({ min: 1, max: 4095 }),
    auth: fc.oneof(fc.constant({ type: 'none' as const }), fc.string({ maxLength: 8 }).map((password) => ({ type: 'pass' as const, password }))),
  });
  fc.assert(fc.property(inst, inst, (a, b) => {
    const same = fingerprintCanonical(a) === fingerprintCanonical(b);
    return same === (configFingerprint(a) === configFingerprint(b));
  }), { numRuns: 500 });
  t.pass('500 runs');
});
