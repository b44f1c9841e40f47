/**
 * The parts of the `netlink` package this adapter uses, taken from its submodules instead of
 * its index. The index also loads the nl80211, generic-netlink and WireGuard codecs (about
 * 300 KB of JavaScript, whose source V8 keeps in the heap for the life of the process) that
 * rtnetlink never needs. The package has no `exports` map, so these are plain files of its
 * published tree; the CommonJS modules are imported whole (default import), as the index was.
 */
import rtSocket from 'netlink/dist/rt/rt.js';
import rtStructs from 'netlink/dist/rt/structs.js';
import structs from 'netlink/dist/structs.js';
import constants from 'netlink/dist/constants.js';

export type { RtNetlinkSocket } from 'netlink/dist/rt/rt.js';
export type { NetlinkSocket } from 'netlink/dist/netlink.js';
export type { NetlinkMessage } from 'netlink/dist/structs.js';
export type * as RtTypes from 'netlink/dist/rt/structs.js';

/** rtnetlink message codecs (the index's `rt`). */
export const rt = rtStructs;
export const { createRtNetlink } = rtSocket;
export const { AttrStream, parseError, formatHeader } = structs;
export const { MessageType, Flags } = constants;
