/** The keepalived.conf parser: syntax, locations, includes handed in, and bad input reported (never thrown). */
import t from 'tap';
import { includeKey, includePatterns, looksLikeKeepalived, MAX_INCLUDE_DEPTH, parseKeepalived, parseKeepalivedText, type KaNode } from '../../../src/core/import/parse.js';
import { LIMITS } from '../../../src/core/config/limits.js';

const brief = (n: KaNode): unknown => (n.children === undefined
  ? [n.name, ...n.args, `@${n.at.line}`]
  : { [`${[n.name, ...n.args].join(' ')} @${n.at.line}`]: n.children.map(brief) });

t.test('blocks, options, nesting and line numbers', (t) => {
  const r = parseKeepalivedText([
    'global_defs {', // 1
    '   router_id LVS_1', // 2
    '}', // 3
    '', // 4
    'vrrp_instance VI_1 {', // 5
    '    interface eth0', // 6
    '    authentication {', // 7
    '        auth_type PASS', // 8
    '    }', // 9
    '    track_script { chk_a chk_b }', // 10
    '}', // 11
  ].join('\n'), 'k.conf');
  t.same(r.problems, []);
  t.same(r.nodes.map(brief), [
    { 'global_defs @1': [['router_id', 'LVS_1', '@2']] },
    { 'vrrp_instance VI_1 @5': [['interface', 'eth0', '@6'], { 'authentication @7': [['auth_type', 'PASS', '@8']] }, { 'track_script @10': [['chk_a', 'chk_b', '@10']] }] },
  ]);
  t.equal(r.nodes[1]?.at.file, 'k.conf');
  t.end();
});

t.test('comments with ! and #, also after an option; quoted strings keep blanks and comment characters', (t) => {
  const r = parseKeepalivedText([
    '! a comment',
    '# another',
    'vrrp_script chk {',
    '  script "/usr/bin/test -f /tmp/a#b" # trailing',
    '  interval 2 ! trailing too',
    '  script2 "say \\"hi\\"" x',
    '}',
  ].join('\n'));
  t.same(r.problems, []);
  t.same(r.nodes[0]?.children?.map((n) => [n.name, ...n.args]), [
    ['script', '/usr/bin/test -f /tmp/a#b'], ['interval', '2'], ['script2', 'say "hi"', 'x'],
  ]);
  t.end();
});

t.test('"{" on the line after the block name, and "}" after the last option', (t) => {
  const r = parseKeepalivedText('vrrp_instance VI_2\n{\n  priority 90 }\nvirtual_ipaddress {\n 10.0.0.1/24\n}\n');
  t.same(r.problems, []);
  t.same(r.nodes.map(brief), [{ 'vrrp_instance VI_2 @1': [['priority', '90', '@3']] }, { 'virtual_ipaddress @4': [['10.0.0.1/24', '@5']] }]);
  t.end();
});

t.test('include: the files handed in are spliced in place, with their own names and lines', (t) => {
  const texts = new Map([
    ['/etc/k/keepalived.conf', 'global_defs {\n}\ninclude conf.d/*.conf\nvrrp_script s {\n  interval 1\n}\n'],
    ['/etc/k/conf.d/a.conf', '\nvrrp_instance A {\n  include /etc/k/peers\n}\n'],
    ['/etc/k/conf.d/b.conf', 'vrrp_instance B {\n}\n'],
    ['/etc/k/peers', 'unicast_peer {\n  10.0.0.2\n}\n'],
  ]);
  const includes = new Map([
    [includeKey('/etc/k/keepalived.conf', 'conf.d/*.conf'), ['/etc/k/conf.d/a.conf', '/etc/k/conf.d/b.conf']],
    [includeKey('/etc/k/conf.d/a.conf', '/etc/k/peers'), ['/etc/k/peers']],
  ]);
  const r = parseKeepalived({ main: '/etc/k/keepalived.conf', texts, includes });
  t.same(r.problems, []);
  t.same(r.nodes.map((n) => `${n.name} ${n.args.join(' ')} ${n.at.file}:${n.at.line}`), [
    'global_defs  /etc/k/keepalived.conf:1', 'vrrp_instance A /etc/k/conf.d/a.conf:2', 'vrrp_instance B /etc/k/conf.d/b.conf:1', 'vrrp_script s /etc/k/keepalived.conf:4',
  ]);
  const peer = r.nodes[1]?.children?.[0]?.children?.[0];
  t.same([peer?.name, peer?.at.file, peer?.at.line], ['10.0.0.2', '/etc/k/peers', 2]);
  t.same(includePatterns(texts.get('/etc/k/keepalived.conf') ?? ''), [{ pattern: 'conf.d/*.conf', line: 3 }]);
  t.end();
});

t.test('include problems: not read, a cycle, too deep', (t) => {
  const missing = parseKeepalivedText('include other.conf\n', 'main.conf');
  t.match(missing.problems, [{ at: { file: 'main.conf', line: 1 }, message: /include other\.conf: the file\(s\) were not read/ }]);
  const cycle = parseKeepalived({
    main: 'a', texts: new Map([['a', 'include b\n'], ['b', 'x 1\ninclude a\n']]),
    includes: new Map([[includeKey('a', 'b'), ['b']], [includeKey('b', 'a'), ['a']]]),
  });
  t.match(cycle.problems, [{ at: { file: 'b', line: 2 }, message: /a includes itself \(through a -> b -> a\)/ }]);
  const texts = new Map<string, string>();
  const includes = new Map<string, string[]>();
  for (let i = 0; i <= MAX_INCLUDE_DEPTH + 1; i += 1) {
    texts.set(`f${i}`, `include f${i + 1}\n`);
    includes.set(includeKey(`f${i}`, `f${i + 1}`), [`f${i + 1}`]);
  }
  const deep = parseKeepalived({ main: 'f0', texts, includes });
  t.match(deep.problems, [{ message: /includes are nested deeper than 8 files/ }]);
  t.end();
});

t.test('broken text: each problem located, the parse goes on, nothing thrown', (t) => {
  const r = parseKeepalivedText('vrrp_instance A {\n  script "unclosed\n}\n}\n{\nvrrp_instance B {\n  priority 1\n', 'k');
  t.same(r.problems.map((p) => `${p.at.line}: ${p.message}`), [
    '2: a quoted string is not closed on this line',
    '4: a "}" that closes no block',
    '5: a "{" without a block name before it',
    '6: block "vrrp_instance" is not closed (a "}" is missing)',
  ]);
  t.equal(r.nodes[0]?.name, 'vrrp_instance', 'what could be read is kept');
  t.end();
});

t.test('bounds: nesting depth, words on a line, text size', (t) => {
  const deep = parseKeepalivedText(`${'a {\n'.repeat(LIMITS.yamlDepth + 5)}${'}\n'.repeat(LIMITS.yamlDepth + 5)}`);
  t.match(deep.problems[0]?.message, /nested deeper than 32 levels/);
  const wide = parseKeepalivedText(`x ${'w '.repeat(5000)}\n`);
  t.match(wide.problems[0]?.message, /more than 1024 words/);
  const big = parseKeepalivedText('#'.repeat(LIMITS.configBytes + 1));
  t.match(big.problems[0]?.message, /over the limit/);
  t.end();
});

t.test('looksLikeKeepalived: keepalived top-level blocks, not haagent YAML', (t) => {
  t.ok(looksLikeKeepalived('! x\nvrrp_instance VI_1 {\n}\n'));
  t.ok(looksLikeKeepalived('global_defs {\n router_id a\n}\n'));
  t.notOk(looksLikeKeepalived('instances:\n  - vrid: 1\n    interface: eth0\n'));
  t.notOk(looksLikeKeepalived('# vrrp_instance in a comment only\ninstances: []\n'));
  t.end();
});
