/**
 * Realistic keepalived configs convert to haagent YAML that haagent's own validation accepts
 * (parseConfigYaml, as check-config reads it), with the values that matter carried over, and the
 * comments (source, NOT MAPPED) present in the text.
 */
import t from 'tap';
import { mapKeepalived } from '../../../src/core/import/map.js';
import { parseKeepalivedText } from '../../../src/core/import/parse.js';
import { importYaml } from '../../../src/core/import/print.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

const CONFIGS: Readonly<Record<string, string>> = {
  'haproxy pair, unicast, PASS, weighted script': `! Configuration File for keepalived
vrrp_script chk_haproxy {
    script "/usr/bin/killall -0 haproxy"
    interval 2
    weight -30
    fall 3
    rise 2
}

vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    unicast_peer {
        192.168.1.12
    }
    authentication {
        auth_type PASS
        auth_pass Sup3rSecret
    }
    virtual_ipaddress {
        192.168.1.100/24
    }
    track_script {
        chk_haproxy
    }
    notify_master "/etc/keepalived/notify.sh MASTER"
    notify_backup "/etc/keepalived/notify.sh BACKUP"
    notify_fault "/etc/keepalived/notify.sh FAULT"
}
`,
  'IPv6, VRRPv3 sub-second, backup without preemption': `global_defs {
    vrrp_version 3
    vrrp_gna_interval 0.05
}
vrrp_instance V6 {
    state BACKUP
    interface ens3
    virtual_router_id 60
    priority 100
    advert_int 0.1
    nopreempt
    unicast_peer {
        fe80::5054:ff:fe12:3456
    }
    virtual_ipaddress {
        2001:db8:0:1::10/64
        2001:db8:0:1::11/64
    }
    track_interface {
        ens4 weight -50
    }
}
`,
  'LVS director: two instances, dev, virtual servers': `global_defs {
    router_id LVS_DEVEL
}
vrrp_instance VI_EXT {
    state MASTER
    interface eth1
    virtual_router_id 10
    priority 200
    preempt_delay 15
    virtual_ipaddress {
        203.0.113.10/24 dev eth0 label eth0:1
    }
}
vrrp_instance VI_INT {
    state MASTER
    interface eth1
    virtual_router_id 11
    priority 200
    virtual_ipaddress {
        10.1.0.1/24
    }
}
vrrp_sync_group VG1 {
    group {
        VI_EXT
        VI_INT
    }
}
virtual_server 203.0.113.10 80 {
    delay_loop 5
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 10.1.0.11 8080 {
        weight 3
        HTTP_GET {
            url {
              path /status
              status_code 200
            }
            connect_timeout 2
            retry 2
        }
    }
    real_server 10.1.0.12 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 2
        }
    }
}
`,
  'kitchen sink: what does not map is reported, the rest still validates': `global_defs {
   notification_email {
     admin@example.com
   }
   smtp_server 127.0.0.1
   enable_script_security
   script_user keepalived_script
}
vrrp_script chk {
    script "pidof nginx | grep -q ."
}
vrrp_track_file prio {
    file /run/keepalived.prio
}
vrrp_instance WEB {
    interface eth0
    virtual_router_id 77
    priority 255
    advert_int 3
    use_vmac
    unicast_src_ip 10.0.0.1
    unicast_peer {
        10.0.0.2 min_ttl 250
    }
    authentication {
        auth_type AH
        auth_pass whatever
    }
    virtual_ipaddress {
        10.0.0.100/24 brd 10.0.0.255 scope global
        10.0.0.101/24 dev eth9
    }
    virtual_ipaddress_excluded {
        10.0.0.200/24
    }
    track_script {
        chk
    }
    track_file {
        prio
    }
    notify "/usr/local/bin/ka-notify"
}
virtual_server 10.0.0.100 53 {
    protocol UDP
    real_server 10.0.1.1 53 {
    }
}
`,
};

for (const [title, text] of Object.entries(CONFIGS)) {
  t.test(title, (t) => {
    const parsed = parseKeepalivedText(text, 'keepalived.conf');
    t.same(parsed.problems, [], 'parses');
    const result = mapKeepalived(parsed.nodes, { resolveCommand: (n) => (n === 'pidof' ? '/usr/bin/pidof' : undefined) });
    const yaml = importYaml(result, ['imported']);
    const checked = parseConfigYaml(yaml);
    t.same(checked.ok ? [] : checked.errors.map((e) => e.message), [], 'the output validates');
    const instances = parsed.nodes.filter((n) => n.name === 'vrrp_instance');
    if (checked.ok) t.equal(checked.config.instances.length, instances.length, 'every instance is there');
    for (const n of instances) t.ok(yaml.includes(`# from vrrp_instance ${n.args[0] ?? ''} (keepalived.conf:${n.at.line})`), `source comment of ${n.args[0] ?? ''}`);
    for (const w of result.warnings) t.ok(yaml.includes(`# NOT MAPPED keepalived.conf:${w.at.line}: ${w.option}`), `comment in place for line ${w.at.line}`);
    t.end();
  });
}

t.test('values survive the round trip through validation', (t) => {
  const get = (name: string): ReturnType<typeof parseConfigYaml> => {
    const p = parseKeepalivedText(CONFIGS[name] ?? '', 'k');
    return parseConfigYaml(importYaml(mapKeepalived(p.nodes), []));
  };
  const a = get('haproxy pair, unicast, PASS, weighted script');
  if (!a.ok) return t.fail('invalid');
  const i = a.config.instances[0];
  t.match(i, { name: 'VI_1', vrid: 51, role: 'master', priority: 150, version: 2, advertIntervalCs: 100, preempt: true, peers: ['192.168.1.12'], auth: { type: 'pass', password: 'Sup3rSec' } });
  t.match(i?.checks, [{ name: 'chk_haproxy', type: 'exec', command: ['/usr/bin/killall', '-0', 'haproxy'], intervalMs: 2000, rise: 2, fall: 3, weight: 30 }]);
  t.same(i?.hooks.master?.command, ['/etc/keepalived/notify.sh', 'MASTER']);
  const b = get('IPv6, VRRPv3 sub-second, backup without preemption');
  if (!b.ok) return t.fail('invalid');
  t.match(b.config.instances[0], { family: 6, version: 3, advertIntervalCs: 10, preempt: false, peers: ['fe80::5054:ff:fe12:3456'], garp: { burstIntervalMs: 50 } });
  const c = get('LVS director: two instances, dev, virtual servers');
  if (!c.ok) return t.fail('invalid');
  // state MASTER: keepalived ignores its preempt_delay 15, and so does the import.
  t.match(c.config.instances[0], { interface: 'eth1', external: 'eth0', vipLabel: 'eth0:1', preemptDelayMs: 0 });
  t.match(c.config.instances[0]?.virtualServices, [{ vip: '203.0.113.10', port: 80, scheduler: 'weighted', realServers: [{ weight: 3, check: { type: 'http', url: 'http://10.1.0.11:8080/status', fall: 3 } }, { weight: 1, check: { type: 'tcp' } }] }]);
  return t.end();
});
