/** Public surface of the pure VRRP state machine. */
export type * from './types.js';
export { step } from './step.js';
export { createInstance } from './create.js';
export { adoptedIntervalCs, defaultMaxAdvertIntervalCs, maxAdoptedIntervalCs, V3_MAX_INTERVAL_CS } from './adopted-interval.js';
export { skewTimeMs, masterDownIntervalMs, csToMs } from './timers.js';
export { KERNEL_EXPIRY_SLACK_MS, leaseRenewDue, leaseRenewEveryMs, oldLeaseLeftMs, vipLeaseSec } from './lease.js';
export { compareAddresses, parseAddressBytes } from '../net/address.js';
export { advertBeatsLocal, compareRank, isOwner, preemptMode } from './election.js';
export type { Rank } from './election.js';
export { describeTimers } from './describe.js';
export { forcePromoteRefusal, DEFAULT_PROMOTION_BACKOFF_MS } from './takeover.js';
