/**
 * Kernel-side dropping of netlink notifications a socket does not want (native/netlink_filter.c):
 * a dropped notification is never queued to the socket, so it costs no read, no callback and no
 * JavaScript. The watcher uses it for RTM_NEWADDR, of which a master's lease renewals make one
 * per VIP and advert interval.
 *
 * Contract: `dropNotificationTypes` attaches the filter to the netlink package's socket behind
 * `sock` (found by its port, see the C file) or throws an Error saying why not (no such
 * function in an old build of the addon, the socket not found, setsockopt refused); it replaces
 * any filter attached before. Use it only on a socket that sends no requests of those types.
 */
import { errorMessage } from '../../core/errors.js';
import { loadBinding } from '../packet-socket.js';
import type { RtNetlinkSocket } from './lib.js';

/** The protocol number of rtnetlink sockets (NETLINK_ROUTE). */
const NETLINK_ROUTE = 0;

/** The addon's export, as documented in native/netlink_filter.c. */
interface NetlinkFilterBinding {
  dropNetlinkTypes(port: number, protocol: number, types: number[]): void;
}

export function dropNotificationTypes(sock: RtNetlinkSocket, types: readonly number[]): void {
  const native = loadBinding() as unknown as Partial<NetlinkFilterBinding>;
  if (typeof native.dropNetlinkTypes !== 'function') {
    throw new Error('the native addon has no dropNetlinkTypes (rebuild it: `npx node-gyp rebuild -C native`)');
  }
  try {
    native.dropNetlinkTypes(sock.socket.address().port, NETLINK_ROUTE, [...types]);
  } catch (err) {
    throw new Error(`cannot filter netlink notifications in the kernel: ${errorMessage(err)}`, { cause: err });
  }
}
