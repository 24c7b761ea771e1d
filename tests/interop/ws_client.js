'use strict';
// A WebSocket client built on Node's `ws` package: a third-party RFC 6455 peer for heartbeat's
// interop tests (tests/integration/websocket_interop_test.cpp).
//
//   node ws_client.js ws://127.0.0.1:PORT/ [--no-echo]
//
// Connects, keeps the connection open and echoes every message with its kind (unless
// --no-echo). Pings are answered by `ws` itself (autoPong). Reports on stdout, one line each:
//   open                 the upgrade succeeded
//   ping <n> <bytes>     the n-th ping arrived, with its payload size
//   close <code> <reason>
// and exits when the connection closes (status 0) or fails (status 1).
const WebSocket = require('ws');

const url = process.argv[2];
if (!url) {
  console.error('usage: node ws_client.js ws://HOST:PORT/PATH [--no-echo]');
  process.exit(2);
}
const echo = !process.argv.includes('--no-echo');
const say = (line) => process.stdout.write(`${line}\n`);

const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
let pings = 0;

ws.on('open', () => say('open'));
ws.on('ping', (data) => {
  pings += 1;
  say(`ping ${pings} ${data.length}`);
});
ws.on('message', (data, isBinary) => {
  if (echo) ws.send(data, { binary: isBinary });
});
ws.on('close', (code, reason) => {
  say(`close ${code} ${reason.toString()}`);
  process.exit(0);
});
ws.on('error', (err) => {
  console.error(`[ws_client] error ${err.message}`);
  process.exit(1);
});

// The test process is our parent: when it goes away, so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
