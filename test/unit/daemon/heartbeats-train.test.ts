/**
 * Heartbeats.repeatAdvert over a fake VRRP socket whose trains cannot be scheduled (an addon
 * built without them): warned about once, that socket is not asked again, and the train that ran
 * before is left to the caller to stop and count.
 */
import t from 'tap';
import pino from 'pino';
import { Writable } from 'node:stream';
import { Heartbeats } from '../../../src/daemon/heartbeats.js';
import type { AgentPorts } from '../../../src/daemon/agent-ports.js';
import { NO_TRAIN, type TrainReport } from '../../../src/adapters/ports.js';
import { instance } from './heartbeats-fakes.js';

t.test('a socket that cannot schedule trains: one warning, not asked again, the old train left to the caller', async (t) => {
  const inst = instance();
  let repeats = 0;
  const reports: Array<[number, boolean]> = [];
  const ports = {
    netlink: { getLink: async () => ({ ifindex: 2 }), primaryIpv4: async () => '10.0.0.2' },
    openVrrp: () => ({
      send: async () => undefined,
      close: () => undefined,
      repeat: (): TrainReport => { repeats++; throw new Error('the native addon has no advert trains'); },
      trainReport: (id: number, stop: boolean): TrainReport => { reports.push([id, stop]); return NO_TRAIN; },
    }),
  } as unknown as AgentPorts;
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  const hb = new Heartbeats(ports, { onDatagram: () => undefined, onMessage6: () => undefined } as never, pino(sink));
  await hb.resolve([inst]);
  hb.open();
  const plan = { firstDelayMs: 100, everyMs: 100, count: 9 };
  t.equal(hb.repeatAdvert(inst, '10.0.0.2', 100, 0, plan), undefined, 'not scheduled');
  t.equal(hb.repeatAdvert(inst, '10.0.0.2', 100, 0, plan), undefined, 'not scheduled again');
  t.equal(repeats, 1, 'the socket was asked once');
  t.equal(lines.filter((l) => l.includes('could not be scheduled')).length, 1, 'one warning');
  t.same(reports, [], 'no report taken (and lost) here: the caller stops the old train and counts it');
});
