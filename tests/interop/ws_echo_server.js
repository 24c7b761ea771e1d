'use strict';
// A WebSocket echo server built on Node's `ws` package: a third-party RFC 6455 peer for
// heartbeat's interop tests (tests/integration/websocket_interop_test.cpp).
//
//   node ws_echo_server.js [--no-echo]
//
// Listens on 127.0.0.1 on a port picked by the kernel and prints that port alone on the first
// line of stdout; then one line per connection event:
//   open <id>
//   close <id> <code> <reason>
// Echoes every message with its kind (text stays text, binary stays binary) unless --no-echo.
// Pings are answered by `ws` itself (autoPong), exactly as any ws-based server in production
// does. Diagnostics go to stderr.
const { WebSocketServer } = require('ws');

const echo = !process.argv.includes('--no-echo');
const log = (...args) => console.error('[ws_echo_server]', ...args);

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 });

wss.on('listening', () => {
  process.stdout.write(`${wss.address().port}\n`);
  log(`listening on 127.0.0.1:${wss.address().port}, echo=${echo}`);
});

let nextId = 1;
wss.on('connection', (ws, req) => {
  const id = nextId++;
  let pings = 0;
  process.stdout.write(`open ${id}\n`);
  log(`#${id} connected from ${req.socket.remoteAddress}:${req.socket.remotePort}`);
  ws.on('ping', () => {
    pings += 1;
  });
  ws.on('message', (data, isBinary) => {
    if (echo) ws.send(data, { binary: isBinary });
  });
  ws.on('close', (code, reason) => {
    process.stdout.write(`close ${id} ${code} ${reason.toString()}\n`);
    log(`#${id} closed code=${code} reason=${reason.toString()} pings=${pings}`);
  });
  ws.on('error', (err) => log(`#${id} error ${err.message}`));
});

wss.on('error', (err) => {
  log(`server error ${err.message}`);
  process.exit(1);
});

// The test process is our parent: when it goes away, so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
