/**
 * The parts of the `netlink` package this adapter uses, taken from its submodules instead of
 * its index, and loaded with require() rather than import.
 *
 * - The index also loads the nl80211, generic-netlink and WireGuard codecs (about 300 KB of
 *   JavaScript, whose source V8 keeps in the heap for the life of the process) that rtnetlink
 *   never needs. The package has no `exports` map, so the submodules are plain files of its
 *   published tree (checked against netlink 0.3.0).
 * - An ESM import of a CommonJS file first scans it (and every file it re-exports) for its
 *   export names; require() does not. Measured on Node 20 (fresh process, after a full GC):
 *   the index by import +1.6 MB heap and +10 MB RSS; these four by import +1.1 MB and +14 MB;
 *   by require +0.9 MB and +6.6 MB.
 */
import { createRequire } from 'node:module';
import type * as RtSocketModule from 'netlink/dist/rt/rt.js';
import type * as RtStructsModule from 'netlink/dist/rt/structs.js';
import type * as StructsModule from 'netlink/dist/structs.js';
import type * as ConstantsModule from 'netlink/dist/constants.js';

export type { RtNetlinkSocket } from 'netlink/dist/rt/rt.js';
export type { NetlinkSocket } from 'netlink/dist/netlink.js';
export type { NetlinkMessage } from 'netlink/dist/structs.js';
export type * as RtTypes from 'netlink/dist/rt/structs.js';

const require = createRequire(import.meta.url);
const rtSocket = require('netlink/dist/rt/rt.js') as typeof RtSocketModule;
const structs = require('netlink/dist/structs.js') as typeof StructsModule;
const constants = require('netlink/dist/constants.js') as typeof ConstantsModule;

/** rtnetlink message codecs (the index's `rt`). */
export const rt = require('netlink/dist/rt/structs.js') as typeof RtStructsModule;
export const { createRtNetlink } = rtSocket;
export const { AttrStream, parseError, formatHeader } = structs;
export const { MessageType, Flags } = constants;
