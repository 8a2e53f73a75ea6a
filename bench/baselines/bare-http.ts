// Baseline: the least an HTTP server on this Node can do.
import { createServer } from 'node:http';

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
