/**
 * Link lookups over rtnetlink (RTM_GETLINK): ifname <-> ifindex, admin/oper state, MAC.
 * Never cached: an interface can be deleted and re-created with a new index at any time.
 */
import { rt, type NetlinkMessage, type RtNetlinkSocket } from './lib.js';
import { NetlinkError } from './errors.js';
import { HaagentError } from '../../core/errors.js';
import { NLM_F_DUMP, RTM, rtRequest } from './request.js';
import type { LinkInfo, OperState } from './types.js';


const OPER_STATES: readonly OperState[] = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

export function formatMac(bytes: Uint8Array | undefined): string {
  if (!bytes) return '';
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Decodes one RTM_NEWLINK/RTM_DELLINK payload; undefined if it has no name. */
export function parseLink(msg: NetlinkMessage): LinkInfo | undefined {
  const { data, attrs } = rt.parseLinkMessage(msg.data);
  if (data.index === undefined || attrs.ifname === undefined) return undefined;
  return {
    ifindex: data.index,
    ifname: attrs.ifname,
    up: data.flags?.up === true,
    running: data.flags?.running === true,
    operState: OPER_STATES[attrs.operstate ?? 0] ?? 'unknown',
    mac: formatMac(attrs.address),
  };
}

export class LinkResolver {
  constructor(private readonly sock: RtNetlinkSocket) {}

  /** Throws NetlinkError (errnoCode ENODEV) when there is no such interface. */
  async getLink(ifname: string): Promise<LinkInfo> {
    const what = `get link ${ifname}`;
    try {
      const replies = await rtRequest(this.sock, RTM.GETLINK, rt.formatLinkMessage,
        { kind: 'link', data: {}, attrs: { ifname } }, 0, what);
      const link = replies.map(parseLink).find((l) => l?.ifname === ifname);
      if (!link) throw new HaagentError('HA_ERR_NETLINK', 'kernel returned no matching link');
      return link;
    } catch (err) {
      throw new NetlinkError(what, err);
    }
  }

  async getLinkByIndex(ifindex: number): Promise<LinkInfo> {
    const what = `get link #${ifindex}`;
    try {
      const replies = await rtRequest(this.sock, RTM.GETLINK, rt.formatLinkMessage,
        { kind: 'link', data: { index: ifindex }, attrs: {} }, 0, what);
      const link = replies.map(parseLink).find((l) => l?.ifindex === ifindex);
      if (!link) throw new HaagentError('HA_ERR_NETLINK', 'kernel returned no matching link');
      return link;
    } catch (err) {
      throw new NetlinkError(what, err);
    }
  }

  async listLinks(): Promise<LinkInfo[]> {
    try {
      const replies = await rtRequest(this.sock, RTM.GETLINK, rt.formatLinkMessage,
        { kind: 'link', data: {}, attrs: {} }, NLM_F_DUMP, 'list links');
      return replies.filter((m) => m.type === RTM.NEWLINK).map(parseLink).filter((l): l is LinkInfo => l !== undefined);
    } catch (err) {
      throw new NetlinkError('list links', err);
    }
  }

  async ifindexOf(ifname: string): Promise<number> {
    return (await this.getLink(ifname)).ifindex;
  }
}
