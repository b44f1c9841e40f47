/**
 * SharedFrameSockets with a fake socket opener: one socket per interface however many leases,
 * opened on first use, closed with the last lease, reopened after an ENODEV/ENXIO send failure.
 */
import t from 'tap';
import { SharedFrameSockets, type InterfaceFrameSocket } from '../../../src/daemon/announce-sockets.js';
import { HaagentError } from '../../../src/core/errors.js';

interface FakeSocket extends InterfaceFrameSocket {
  readonly ifname: string;
  readonly sent: Uint8Array[];
  closed: boolean;
  failWith?: string;
}

function fakeOpener(): { open: (ifname: string) => FakeSocket; opened: FakeSocket[] } {
  const opened: FakeSocket[] = [];
  return {
    opened,
    open: (ifname) => {
      const s: FakeSocket = {
        ifname,
        sent: [],
        closed: false,
        send(frame) {
          if (this.closed) throw new Error('send on a closed fake socket');
          if (this.failWith !== undefined) {
            throw new HaagentError('HA_ERR_ANNOUNCE', 'fake failure', { cause: Object.assign(new Error('x'), { code: this.failWith }) });
          }
          this.sent.push(frame);
        },
        mac: () => `02:00:00:00:00:0${opened.length}`,
        close() { this.closed = true; },
      };
      opened.push(s);
      return s;
    },
  };
}

t.test('two leases on one interface share one socket; the last release closes it', (t) => {
  const f = fakeOpener();
  const reg = new SharedFrameSockets(f.open);
  const a = reg.acquire('eth0');
  const b = reg.acquire('eth0');
  t.equal(f.opened.length, 0, 'nothing opened before the first send');
  a.send(Uint8Array.of(1));
  b.send(Uint8Array.of(2));
  t.equal(b.mac(), '02:00:00:00:00:01');
  t.equal(f.opened.length, 1, 'one socket for both');
  t.same(f.opened[0]!.sent.map((x) => x[0]), [1, 2]);
  t.same(reg.openInterfaces(), ['eth0']);
  a.release();
  a.release(); // idempotent: must not count twice
  t.equal(f.opened[0]!.closed, false, 'still in use by b');
  b.send(Uint8Array.of(3));
  b.release();
  t.equal(f.opened[0]!.closed, true, 'closed with the last lease');
  t.same(reg.openInterfaces(), []);
  const c = reg.acquire('eth0');
  c.send(Uint8Array.of(4));
  t.equal(f.opened.length, 2, 'a later user opens a new socket');
  c.release();
  t.end();
});

t.test('interfaces are separate', (t) => {
  const f = fakeOpener();
  const reg = new SharedFrameSockets(f.open);
  const a = reg.acquire('eth0');
  const b = reg.acquire('eth1');
  a.send(Uint8Array.of(1));
  b.send(Uint8Array.of(1));
  t.same(f.opened.map((s) => s.ifname), ['eth0', 'eth1']);
  a.release();
  t.same([f.opened[0]!.closed, f.opened[1]!.closed], [true, false]);
  b.release();
  t.end();
});

t.test('a failed open is retried at the next call', (t) => {
  let fail = true;
  const f = fakeOpener();
  const reg = new SharedFrameSockets((ifname) => {
    if (fail) throw new HaagentError('HA_ERR_ANNOUNCE', 'no such device');
    return f.open(ifname);
  });
  const a = reg.acquire('eth0');
  t.throws(() => a.send(Uint8Array.of(1)), { code: 'HA_ERR_ANNOUNCE' });
  fail = false;
  a.send(Uint8Array.of(1));
  t.equal(f.opened.length, 1);
  a.release();
  t.end();
});

t.test('ENODEV drops the socket so the next send reopens; other errors keep it', (t) => {
  const f = fakeOpener();
  const reg = new SharedFrameSockets(f.open);
  const a = reg.acquire('eth0');
  a.send(Uint8Array.of(1));
  f.opened[0]!.failWith = 'EAGAIN';
  t.throws(() => a.send(Uint8Array.of(2)), { code: 'HA_ERR_ANNOUNCE' });
  t.equal(f.opened[0]!.closed, false, 'EAGAIN keeps the socket');
  f.opened[0]!.failWith = 'ENODEV';
  t.throws(() => a.send(Uint8Array.of(3)), { code: 'HA_ERR_ANNOUNCE' });
  t.equal(f.opened[0]!.closed, true, 'ENODEV closes it');
  a.send(Uint8Array.of(4));
  t.equal(f.opened.length, 2, 'reopened');
  t.same(f.opened[1]!.sent.map((x) => x[0]), [4]);
  a.release();
  t.end();
});
