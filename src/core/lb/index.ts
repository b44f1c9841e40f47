/** The kernel load balancer's pure side: the virtual-service shape and nftables JSON rulesets. */
export * from './types.js';
export { buildRuleset, emptyRuleset, weightedSlots, PRIORITY_DSTNAT, PRIORITY_SRCNAT, SOURCE_HASH_SEED, TABLE_FAMILY, TABLE_NAME } from './ruleset.js';
export { validateServices } from './validate.js';
export { serviceName } from './name.js';
