import { LabTopology } from '../src/lab/topology.js';
import { PgPair } from './helpers/postgres.js';
const topo = new LabTopology('pgdbg');
await topo.create();
const pair = new PgPair(topo.hosts, 'dbg');
await pair.create();
console.log(pair.root);
