/**
 * Interface name -> ifindex for the VIP adds, kept while a link watcher guards it.
 *
 * A master renews its VIPs' lifetime with RTM_NEWADDR about once per advert interval; looking the
 * index up each time (an RTM_GETLINK round trip and the decoding of a full link message) cost
 * more than the renewal itself. The mapping is remembered only while at least one watcher of the
 * same adapter is open, and forgotten whenever that watcher sees any RTM_NEWLINK/RTM_DELLINK
 * (a rename, a deletion, a new link) or resynchronises after lost events. Without a watcher
 * every lookup goes to the kernel, as before.
 *
 * What it does not promise: an interface renamed or re-created in the instant between the kernel
 * event and its delivery to the watcher can still be looked up from the old entry. The caller
 * (AddressManager.addVip) covers the common case, a deleted index (ENODEV), by forgetting the
 * entry and asking the kernel again.
 */
import type { LinkResolver } from './links.js';

/** What a watcher must offer to guard the cache (RtnetlinkWatcher does). */
export interface LinkChangeSource {
  on(event: 'links-changed' | 'closed', listener: () => void): unknown;
}

export class IfindexCache {
  private readonly byName = new Map<string, number>();
  private guards = 0;
  /** Bumped by every clear: a lookup that overlapped one is not remembered. */
  private generation = 0;

  constructor(private readonly links: Pick<LinkResolver, 'ifindexOf'>) {}

  /** Keeps entries while `watcher` is open; each of its link changes empties the cache. */
  guardWith(watcher: LinkChangeSource): void {
    this.guards += 1;
    let open = true;
    watcher.on('links-changed', () => this.clear());
    watcher.on('closed', () => {
      if (!open) return;
      open = false;
      this.guards -= 1;
      this.clear();
    });
  }

  /** The index of `ifname`, remembered when guarded. Throws what LinkResolver.ifindexOf throws. */
  async ifindexOf(ifname: string): Promise<number> {
    const known = this.byName.get(ifname);
    if (known !== undefined) return known;
    const generation = this.generation;
    const index = await this.links.ifindexOf(ifname);
    if (this.guards > 0 && generation === this.generation) this.byName.set(ifname, index);
    return index;
  }

  /**
   * A number that changes whenever a guarding watcher sees a link change (or closes): what was
   * made with an index looked up before may name the wrong link since. NaN while no watcher
   * guards (nothing is known, and NaN equals nothing).
   */
  get linkGeneration(): number {
    return this.guards > 0 ? this.generation : NaN;
  }

  /** Whether `ifname` was answered from memory; forgets it either way. */
  forget(ifname: string): boolean {
    return this.byName.delete(ifname);
  }

  private clear(): void {
    this.generation += 1;
    this.byName.clear();
  }
}
