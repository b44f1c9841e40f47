/**
 * The lab's tiny web server: answers every request with the host name given as argv[2].
 * Run inside a host namespace: `node web-server.js h1 [port]`.
 */
import { createServer } from 'node:http';

const name = process.argv[2] ?? 'unknown';
const port = Number(process.argv[3] ?? 80);
createServer((_req, res) => {
  res.setHeader('connection', 'close');
  res.end(`${name}\n`);
}).listen(port, '::'); // IPv4 and IPv6
process.on('SIGTERM', () => process.exit(0));
