'use strict';
// A JavaScript codec worker (decoders/js/js_pool.hpp): runs payload codecs in the LoRa Alliance TS013 form
// (decodeUplink, encodeDownlink, decodeDownlink, normalizeUplink) and the legacy forms (TTN v2 Decoder/Encoder,
// ChirpStack v3 Decode/Encode) for the server, which talks to it over stdin/stdout:
//
//   frame = u32 big-endian length | UTF-8 JSON
//   → {"id":N,"op":"load","codec":NAME,"source":JS}               ← {"id":N,"ok":true} | {"id":N,"error":…}
//   → {"id":N,"op":"unload","codec":NAME}                         ← {"id":N,"ok":true}
//   → {"id":N,"op":"decodeUplink"|"decodeDownlink","codec":NAME,"fPort":P,"bytes":[…],"recvTime":MS,"variables":{}}
//   → {"id":N,"op":"encodeDownlink","codec":NAME,"fPort":P?,"data":{…},"variables":{}}
//                                                                 ← {"id":N,"result":{…}} | {"id":N,"error":…}
// and sends {"id":0,"ready":true,"node":VERSION} once it is running.
//
// Each codec is compiled once into a vm context of its own: codecs cannot see each other, `require` or `process`.
// The codec's top level runs with vm's time limit. Calls do not: vm's timeout starts a watchdog thread per run,
// which costs about 180 us against 3 us for the call itself; the server times each call instead and kills a
// worker that overruns (js_pool.cpp). The heap has the limit the server starts node with. vm is not a security
// boundary: the process is, and the server replaces it when it dies. Requests are handled one at a time, in order,
// synchronously.

const vm = require('vm');

const timeoutMs = Number(process.argv[1]) || 100;
const maxOutput = Number(process.argv[2]) || 1048576;

const codecs = new Map();  // name → {context, error}

// Run inside the codec's context, so that the input's arrays, objects and Date belong to the codec's realm
// (`instanceof Array` holds) and the output is serialized within the time limit.
// The input is the request as the server sent it; the codec sees only the fields of its function's input.
const calls = {
  decodeUplink: new vm.Script(`(function (input) {
    input.recvTime = new Date(input.recvTime);
    var variables = input.variables || {};
    var r;
    if (typeof decodeUplink === 'function') {
      r = decodeUplink({bytes: input.bytes, fPort: input.fPort, recvTime: input.recvTime, variables: variables});
    } else if (typeof Decoder === 'function') {
      r = {data: Decoder(input.bytes, input.fPort)};
    } else if (typeof Decode === 'function') {
      r = {data: Decode(input.fPort, input.bytes, variables)};
    } else {
      return JSON.stringify({__missing: 'decodeUplink'});
    }
    if (r && typeof r === 'object' && typeof normalizeUplink === 'function' && r.data && typeof r.data === 'object' &&
        !(r.errors && r.errors.length)) {
      // normalizeUplink failing leaves the decoded payload as it is (its errors become warnings on the server).
      var n;
      try {
        n = normalizeUplink({data: r.data});
      } catch (e) {
        n = {errors: [String(e && e.message || e)]};
      }
      r = {data: r.data, warnings: r.warnings, errors: r.errors, readings: r.readings, normalized: n};
    }
    return JSON.stringify(r === undefined ? null : r);
  })(JSON.parse(__schwebe_input))`, {filename: 'schwebe:decodeUplink'}),
  decodeDownlink: new vm.Script(`(function (input) {
    if (input.recvTime !== undefined) input.recvTime = new Date(input.recvTime);
    if (typeof decodeDownlink !== 'function') return JSON.stringify({__missing: 'decodeDownlink'});
    var r = decodeDownlink({bytes: input.bytes, fPort: input.fPort, recvTime: input.recvTime,
                            variables: input.variables || {}});
    return JSON.stringify(r === undefined ? null : r);
  })(JSON.parse(__schwebe_input))`, {filename: 'schwebe:decodeDownlink'}),
  encodeDownlink: new vm.Script(`(function (input) {
    var variables = input.variables || {};
    var r;
    if (typeof encodeDownlink === 'function') {
      var arg = {data: input.data, variables: variables};
      if (input.fPort !== undefined) arg.fPort = input.fPort;
      r = encodeDownlink(arg);
    } else if (typeof Encoder === 'function') {
      r = {bytes: Encoder(input.data, input.fPort)};
    } else if (typeof Encode === 'function') {
      r = {bytes: Encode(input.fPort, input.data, variables)};
    } else {
      return JSON.stringify({__missing: 'encodeDownlink'});
    }
    return JSON.stringify(r === undefined ? null : r);
  })(JSON.parse(__schwebe_input))`, {filename: 'schwebe:encodeDownlink'}),
};

function describe(e) {
  if (e && typeof e === 'object') {
    // What a codec throws may throw again when read (a getter, a Proxy, no toString): that must not end the worker.
    try {
      if (e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return `time limit of ${timeoutMs} ms exceeded`;
      const name = typeof e.name === 'string' ? e.name : 'Error';
      const message = typeof e.message === 'string' ? e.message : String(e);
      let where = '';
      if (typeof e.stack === 'string') {
        const m = /codec\.js:(\d+)(?::(\d+))?/.exec(e.stack) || /:(\d+):(\d+)\)?\s*$/m.exec(e.stack);
        if (m) where = ` (line ${m[1]})`;
      }
      return `${name}: ${message}${where}`.slice(0, 500);
    } catch (_) {
      return 'thrown: an object that cannot be printed';
    }
  }
  try {
    return `thrown: ${String(e)}`.slice(0, 500);
  } catch (_) {
    return 'thrown: a value that cannot be printed';
  }
}

// TTN and ChirpStack codecs call console.log while debugging; it goes nowhere (stdout is the protocol). Made inside
// the context, like everything the codec can reach: a function or object of node's own realm would lead back to
// node's Function, and from there to `process` (fn.constructor('return process')()).
const quietConsole = new vm.Script(
    'globalThis.console = {log() {}, info() {}, warn() {}, error() {}, debug() {}};', {filename: 'schwebe:console'});

function load(name, source) {
  // The sandbox has no prototype, for the same reason: `this.constructor` would otherwise be node's Object.
  // Promise callbacks run right after each call, within its time limit (by default they would run later, with none).
  const context = vm.createContext(Object.create(null),
      {name, codeGeneration: {strings: true, wasm: false}, microtaskMode: 'afterEvaluate'});
  try {
    quietConsole.runInContext(context);
    new vm.Script(source, {filename: 'codec.js'}).runInContext(context, {timeout: timeoutMs});
  } catch (e) {
    codecs.set(name, {context: null, error: describe(e)});
    return {error: `does not compile: ${describe(e)}`};
  }
  codecs.set(name, {context, error: null});
  return {ok: true};
}

// Answers are JSON text: a call's result is the string the codec's context serialized, sent as it is (parsing it
// again here would only cost time; the server parses and checks it, and treats anything else as garbage).
function call(request, body) {
  const codec = codecs.get(request.codec);
  if (!codec) return error(request.id, 'codec not loaded');
  if (!codec.context) return error(request.id, `does not compile: ${codec.error}`);
  const script = calls[request.op];
  if (!script) return error(request.id, `unknown op ${request.op}`);
  codec.context.__schwebe_input = body;
  let out;
  try {
    out = script.runInContext(codec.context);
  } catch (e) {
    return error(request.id, describe(e));
  } finally {
    codec.context.__schwebe_input = undefined;
  }
  if (typeof out !== 'string') return error(request.id, 'the result cannot be serialized as JSON');
  if (out.length > maxOutput) {
    return error(request.id, `output too large: ${out.length} characters (limit ${maxOutput})`);
  }
  if (out.startsWith('{"__missing":')) return error(request.id, `the codec has no ${JSON.parse(out).__missing} function`);
  return `{"id":${request.id},"result":${out}}`;
}

function error(id, reason) {
  return JSON.stringify({id, error: reason});
}

function handle(request, body) {
  switch (request.op) {
    case 'load': {
      const reply = load(String(request.codec), String(request.source));
      reply.id = request.id;
      return JSON.stringify(reply);
    }
    case 'unload':
      codecs.delete(String(request.codec));
      return JSON.stringify({id: request.id, ok: true});
    default:
      return call(request, body);
  }
}

// Each answer goes out as soon as it is made: the server starts the next request's time limit when it sees it.
function send(texts) {
  let size = 0;
  for (const text of texts) size += 4 + Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const text of texts) {
    const length = out.write(text, at + 4, 'utf8');
    out.writeUInt32BE(length, at);
    at += 4 + length;
  }
  process.stdout.write(out);  // synchronous for pipes and sockets on Linux
}

let buffered = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
  while (buffered.length >= 4) {
    const length = buffered.readUInt32BE(0);
    if (buffered.length < 4 + length) break;
    const body = buffered.subarray(4, 4 + length).toString('utf8');
    buffered = buffered.subarray(4 + length);
    let request;
    try {
      request = JSON.parse(body);
    } catch (e) {
      process.exit(3);  // the server never sends this: the stream is out of step
    }
    send([handle(request, body)]);
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdout.on('error', () => process.exit(0));
send([JSON.stringify({id: 0, ready: true, node: process.version})]);
