/**
 * Finding the instance an advert is for, by family, heartbeat interface and VRID, without a scan
 * of every instance per datagram (hundreds a second with many instances).
 *
 * Contract: `find` returns exactly what `targets.find(t => t matches)` would return for the
 * array the getter returns now (the first match), whatever happened to that array since the last
 * call: it is replaced on a reload, pushed to when an instance starts, and an element may be
 * swapped for another in place. The index remembers positions; a hit is used only if the element
 * now at that position still matches, and anything else (another array, another length, a stale
 * position, or a match the index does not know) rebuilds it once before answering. A VRID
 * nobody has costs one scan per datagram, as before.
 */
import type { InstanceConfig } from '../core/config/types.js';

type Keyed = { readonly config: Pick<InstanceConfig, 'family' | 'interface' | 'vrid'> };

const matches = (t: Keyed, family: 4 | 6, ifname: string, vrid: number): boolean =>
  t.config.family === family && t.config.interface === ifname && t.config.vrid === vrid;

export class TargetIndex<T extends Keyed> {
  private arr: readonly T[] | undefined;
  private length = -1;
  /** family -> interface -> VRID -> position of the first match. */
  private readonly positions = new Map<4 | 6, Map<string, Map<number, number>>>();

  constructor(private readonly targets: () => readonly T[]) {}

  find(family: 4 | 6, ifname: string, vrid: number | undefined): T | undefined {
    if (vrid === undefined) return undefined;
    const arr = this.targets();
    if (arr === this.arr && arr.length === this.length) {
      const i = this.positions.get(family)?.get(ifname)?.get(vrid);
      const t = i === undefined ? undefined : arr[i];
      if (t !== undefined && matches(t, family, ifname, vrid)) return t;
      // Not indexed (a VRID nobody here has, usually): a scan says whether the index is stale.
      if (i === undefined && !arr.some((x) => matches(x, family, ifname, vrid))) return undefined;
    }
    this.rebuild(arr);
    const i = this.positions.get(family)?.get(ifname)?.get(vrid);
    return i === undefined ? undefined : arr[i];
  }

  private rebuild(arr: readonly T[]): void {
    this.arr = arr;
    this.length = arr.length;
    this.positions.clear();
    arr.forEach((t, i) => {
      const { family, interface: ifname, vrid } = t.config;
      let byIf = this.positions.get(family);
      if (byIf === undefined) this.positions.set(family, (byIf = new Map()));
      let byVrid = byIf.get(ifname);
      if (byVrid === undefined) byIf.set(ifname, (byVrid = new Map()));
      if (!byVrid.has(vrid)) byVrid.set(vrid, i);
    });
  }
}
