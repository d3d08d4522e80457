#!/usr/bin/env node
// Interop peer on Node's `ws` package.
//
//   node node_peer.js server [--port 0] [--lifetime SECS]
//       An echo server on 127.0.0.1 (port 0 = a free one). Prints
//       "node echo server listening on ws://127.0.0.1:PORT" once it accepts,
//       echoes every message as it came (text as text, binary as binary) and
//       exits after --lifetime seconds (default 300).
//
//   node node_peer.js client ws://127.0.0.1:PORT/ [--timeout SECS]
//       Runs the interop checks against an echo server: one "ok ..." line per
//       check, exit status 1 at the first failure (with a "FAIL ..." line), 0
//       when every check passed. The client offers permessage-deflate (the ws
//       default): against a server that declines it this checks the fallback,
//       against one that accepts it every message is compressed.
'use strict';

const crypto = require('crypto');
const { WebSocket, WebSocketServer } = require('ws');
const wsVersion = require('ws/package.json').version;

const MAX_PAYLOAD = 64 * 1024 * 1024;
const CLOSE_CODE = 4000;
const CLOSE_REASON = 'bye';

function option(args, name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : dflt;
}

// ---------------------------------------------------------------------------- server

function runServer(args) {
  const port = option(args, '--port', 0);
  const lifetime = option(args, '--lifetime', 300);
  const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: MAX_PAYLOAD, perMessageDeflate: true });
  wss.on('listening', () => {
    console.log(`node echo server (ws ${wsVersion}) listening on ws://127.0.0.1:${wss.address().port}`);
  });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', (e) => console.log(`connection error: ${e.message}`));
  });
  wss.on('error', (e) => {
    console.log(`server error: ${e.message}`);
    process.exit(2);
  });
  setTimeout(() => process.exit(0), lifetime * 1000).unref();
  // Keep the process alive for `lifetime` even if the timer above is unref'd.
  setTimeout(() => {}, lifetime * 1000);
}

// ---------------------------------------------------------------------------- client

class CheckFailed extends Error {}

// Deterministic pseudo-random bytes, so that a failure is reproducible.
function pseudoRandom(len, seed) {
  const out = Buffer.alloc(len);
  let counter = 0;
  for (let off = 0; off < len; counter++) {
    const block = crypto.createHash('sha256').update(`${seed}:${counter}`).digest();
    off += block.copy(out, off);
  }
  return out;
}

function describe(data) {
  return data.length <= 32 ? JSON.stringify(data.toString('hex')) : `${data.length} bytes`;
}

async function runClient(url, timeoutSecs) {
  let count = 0;
  const ok = (what) => {
    count += 1;
    console.log(`ok   ${what}`);
  };
  const timeoutMs = timeoutSecs * 1000;

  // A queue of events: messages, pongs, the close, errors.
  const queue = [];
  let wake = null;
  const push = (ev) => {
    queue.push(ev);
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const next = async (what) => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new CheckFailed(`${what}: nothing received within ${timeoutSecs}s`);
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, left);
      });
    }
    return queue.shift();
  };

  const ws = new WebSocket(url, { maxPayload: MAX_PAYLOAD, handshakeTimeout: timeoutMs });
  ws.on('message', (data, isBinary) => push({ type: 'message', data, isBinary }));
  ws.on('pong', (data) => push({ type: 'pong', data }));
  ws.on('ping', (data) => push({ type: 'ping', data }));
  ws.on('close', (code, reason) => push({ type: 'close', code, reason: reason.toString() }));
  ws.on('error', (e) => push({ type: 'error', error: e }));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }).catch((e) => {
    throw new CheckFailed(`handshake with ${url}: ${e.message}`);
  });
  // Either outcome is fine: a server that declines the offer is checked for the fallback, one
  // that accepts it has every check below run compressed.
  ok(`handshake with ${url} (offered permessage-deflate, extensions in force: ${ws.extensions || 'none'})`);

  const sendP = (data, opts) =>
    new Promise((resolve, reject) => ws.send(data, opts, (e) => (e ? reject(e) : resolve())));

  const expectMessage = async (isBinary, want, what) => {
    for (;;) {
      const ev = await next(what);
      if (ev.type === 'ping') continue;
      if (ev.type !== 'message') {
        throw new CheckFailed(`${what}: expected the echo, got ${ev.type} ${ev.code || ''} ${ev.reason || ''}${ev.error ? ev.error.message : ''}`);
      }
      if (ev.isBinary !== isBinary) {
        throw new CheckFailed(`${what}: sent ${isBinary ? 'binary' : 'text'}, echo came back as ${ev.isBinary ? 'binary' : 'text'}: ${describe(ev.data)}`);
      }
      if (!Buffer.from(ev.data).equals(want)) {
        throw new CheckFailed(`${what}: echo differs: got ${describe(ev.data)}, sent ${describe(want)}`);
      }
      return;
    }
  };

  const roundTrip = async (data, isBinary, what) => {
    await sendP(data, { binary: isBinary });
    await expectMessage(isBinary, Buffer.from(data), what);
    ok(what);
  };

  const fragmented = async (pieces, isBinary, what) => {
    for (let i = 0; i < pieces.length; i++) {
      await sendP(pieces[i], { binary: isBinary, fin: i === pieces.length - 1 });
    }
    await expectMessage(isBinary, Buffer.concat(pieces), what);
    ok(what);
  };

  await roundTrip('hello', false, 'text "hello"');
  const utf8 = 'héllo wörld — 你好 🌍 ñ€';
  await roundTrip(utf8, false, `text multi-byte UTF-8 (${Buffer.byteLength(utf8)} bytes)`);
  await roundTrip('', false, 'text empty');
  let seed = 0;
  for (const size of [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20]) {
    await roundTrip(pseudoRandom(size, seed++), true, `binary ${size} bytes`);
  }
  await roundTrip('y'.repeat(65536), false, 'text 65536 bytes');

  // Fragmented text whose pieces split characters ("€" 1+2 bytes, "🌍" 2+2 bytes), with an
  // empty piece in the middle and an empty final piece.
  const raw = Buffer.from('frag: a€b🌍c end');
  const euro = raw.indexOf(Buffer.from('€'));
  const globe = raw.indexOf(Buffer.from('🌍'));
  await fragmented(
    [raw.subarray(0, euro + 1), raw.subarray(euro + 1, globe + 2), Buffer.alloc(0), raw.subarray(globe + 2), Buffer.alloc(0)],
    false,
    'text fragmented in 5 pieces (fin:false), characters split across pieces',
  );
  const data = pseudoRandom(70000, 99);
  await fragmented(
    [data.subarray(0, 1), data.subarray(1, 1000), data.subarray(1000, 66000), data.subarray(66000)],
    true,
    'binary fragmented in 4 pieces (70000 bytes)',
  );

  const payload = Buffer.from('interop-ping 🏓');
  ws.ping(payload);
  for (;;) {
    const ev = await next('ping');
    if (ev.type === 'ping') continue;
    if (ev.type !== 'pong') throw new CheckFailed(`ping: expected a pong, got ${ev.type}`);
    if (!ev.data.equals(payload)) throw new CheckFailed(`ping: pong payload ${describe(ev.data)}, sent ${describe(payload)}`);
    break;
  }
  ok('ping with payload -> pong with the same payload');

  // A ping between the pieces of a fragmented message: the pong comes before the echo.
  await sendP(Buffer.from('before-'), { binary: true, fin: false });
  ws.ping(Buffer.from('mid'));
  await sendP(Buffer.from('after'), { binary: true, fin: true });
  {
    const ev = await next('ping between fragments');
    if (ev.type !== 'pong' || ev.data.toString() !== 'mid') {
      throw new CheckFailed(`ping between fragments: expected pong "mid" first, got ${ev.type}`);
    }
    await expectMessage(true, Buffer.from('before-after'), 'ping between fragments');
    ok('ping between the pieces of a fragmented binary message');
  }

  ws.close(CLOSE_CODE, CLOSE_REASON);
  for (;;) {
    const ev = await next('close');
    if (ev.type === 'error') throw new CheckFailed(`close: ${ev.error.message}`);
    if (ev.type !== 'close') continue;
    if (ev.code !== CLOSE_CODE) {
      throw new CheckFailed(`close: sent ${CLOSE_CODE} "${CLOSE_REASON}", server replied ${ev.code} "${ev.reason}"`);
    }
    ok(`close ${CLOSE_CODE} "${CLOSE_REASON}" -> server replied ${ev.code} "${ev.reason}"`);
    break;
  }
  return count;
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'server') return runServer(args);
  if (mode !== 'client' || !args[0]) {
    console.error('usage: node_peer.js server [--port N] [--lifetime S] | client ws://HOST:PORT/ [--timeout S]');
    process.exit(2);
  }
  const url = args[0];
  const timeoutSecs = option(args, '--timeout', 10);
  const started = Date.now();
  // Backstop: never outlive ten timeouts.
  setTimeout(() => {
    console.log(`FAIL overall timeout of ${timeoutSecs * 10}s`);
    process.exit(1);
  }, timeoutSecs * 10 * 1000).unref();
  try {
    const count = await runClient(url, timeoutSecs);
    console.log(`node_peer client (ws ${wsVersion}): all ${count} checks passed against ${url} in ${((Date.now() - started) / 1000).toFixed(2)}s`);
    process.exit(0);
  } catch (e) {
    console.log(`FAIL ${e instanceof CheckFailed ? e.message : e.stack}`);
    process.exit(1);
  }
}

main();
