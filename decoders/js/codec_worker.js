'use strict';
// A JavaScript codec worker (decoders/js/js_pool.hpp): runs payload codecs in the LoRa Alliance TS013 form
// (decodeUplink, encodeDownlink, decodeDownlink, normalizeUplink) and the legacy forms (TTN v2 Decoder/Encoder,
// ChirpStack v3 Decode/Encode) for the server, which talks to it over stdin/stdout:
//
//   frame = u32 big-endian length | UTF-8 JSON
//   → {"id":N,"op":"load","codec":NAME,"source":JS}     ← {"id":N,"ok":true} | {"id":N,"error":…[,"kept":true]}
//   → {"id":N,"op":"unload","codec":NAME}               ← {"id":N,"ok":true}
//   → {"id":N,"op":"decodeUplink"|"decodeDownlink","codec":NAME,"fPort":P,"bytes":[…],"recvTime":MS,"variables":{}}
//   → {"id":N,"op":"encodeDownlink","codec":NAME,"fPort":P?,"data":{…},"variables":{}}
//                                                       ← {"id":N,"result":{…}} | {"id":N,"error":…}
// and sends {"id":0,"ready":true,"node":VERSION} once it is running.
//
// Each codec is compiled once into a vm context of its own: codecs cannot see each other, `require` or `process`,
// and nothing of this realm is handed to them or read from what they make (see setup and describe_host). The
// codec's top level runs with vm's time limit. Calls do not: vm's timeout starts a watchdog thread per run, which
// costs about 180 us against 3 us for the call itself; the server times each call instead and kills a worker that
// overruns (js_pool.cpp). The heap has the limit the server starts node with. Node runs with
// --disallow-code-generation-from-strings, so that this realm's Function cannot compile text even if a codec got
// hold of it (the codecs' own contexts allow eval). Requests are handled one at a time, in order.

const vm = require('vm');

const timeoutMs = Number(process.argv[1]) || 100;
const maxOutput = Number(process.argv[2]) || 1048576;

const codecs = new Map();  // name → {context, error}

// Run inside the codec's context, so that the input's arrays, objects and Date belong to the codec's realm
// (`instanceof Array` holds) and the output is serialized within the time limit.
// The input is the request as the server sent it; the codec sees only the fields of its function's input.
const calls = {
  decodeUplink: new vm.Script(`(function (input) { try {
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
  } catch (e) {
    return JSON.stringify({__error: __schwebe_describe(e)});
  } })(JSON.parse(__schwebe_input))`, {filename: 'schwebe:decodeUplink'}),
  decodeDownlink: new vm.Script(`(function (input) { try {
    if (input.recvTime !== undefined) input.recvTime = new Date(input.recvTime);
    if (typeof decodeDownlink !== 'function') return JSON.stringify({__missing: 'decodeDownlink'});
    var r = decodeDownlink({bytes: input.bytes, fPort: input.fPort, recvTime: input.recvTime,
                            variables: input.variables || {}});
    return JSON.stringify(r === undefined ? null : r);
  } catch (e) {
    return JSON.stringify({__error: __schwebe_describe(e)});
  } })(JSON.parse(__schwebe_input))`, {filename: 'schwebe:decodeDownlink'}),
  encodeDownlink: new vm.Script(`(function (input) { try {
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
  } catch (e) {
    return JSON.stringify({__error: __schwebe_describe(e)});
  } })(JSON.parse(__schwebe_input))`, {filename: 'schwebe:encodeDownlink'}),
};

// What the server's own code throws (the time limit of a codec's top level, a stack overflow in the wrappers).
// Never a property of a value the codec made: reading `stack` from here would run the codec's
// Error.prepareStackTrace with this realm's objects, a way out of the sandbox.
function describe_host(e) {
  if (e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return `time limit of ${timeoutMs} ms exceeded`;
  return 'the codec failed';
}

// Set up in each context before the codec runs, in the codec's own realm:
// - console: TTN and ChirpStack codecs call console.log while debugging; it goes nowhere (stdout is the protocol).
//   Made here like everything the codec can reach: an object of node's realm would lead back to node's Function
//   and from there to `process`;
// - no FinalizationRegistry or WeakRef: their callbacks would run between calls, outside any time limit, and be
//   charged to the next call;
// - __schwebe_describe: what a thrown value says (name, message, line), read within the codec's realm.
const setup = new vm.Script(`
  globalThis.console = {log() {}, info() {}, warn() {}, error() {}, debug() {}};
  delete globalThis.FinalizationRegistry;
  delete globalThis.WeakRef;
  if (typeof Atomics === 'object') delete Atomics.waitAsync;
  Object.defineProperty(globalThis, '__schwebe_describe', {writable: false, configurable: false, enumerable: false,
    value: function (e) {
      try {
        if (e && typeof e === 'object') {
          var name = typeof e.name === 'string' ? e.name : 'Error';
          var message = typeof e.message === 'string' ? e.message : String(e);
          var where = '';
          var stack = e.stack;
          if (typeof stack === 'string') {
            var m = /codec[.]js:([0-9]+)/.exec(stack);
            if (m) where = ' (line ' + m[1] + ')';
          }
          return String(name + ': ' + message + where).slice(0, 500);
        }
        return String('thrown: ' + String(e)).slice(0, 500);
      } catch (_) {
        return typeof e === 'object' && e !== null ? 'thrown: an object that cannot be printed'
                                                   : 'thrown: a value that cannot be printed';
      }
    }});
`, {filename: 'schwebe:setup'});
const describeError = new vm.Script('__schwebe_describe(__schwebe_error)', {filename: 'schwebe:describe'});

function describe_in(context, e) {
  try {
    context.__schwebe_error = e;
    const text = describeError.runInContext(context, {timeout: timeoutMs, displayErrors: false});
    return typeof text === 'string' ? text.slice(0, 500) : 'the codec failed';
  } catch (_) {
    return 'the codec failed';
  } finally {
    context.__schwebe_error = undefined;
  }
}

function load(name, source) {
  // The sandbox has no prototype: `this.constructor` would otherwise be node's Object.
  // Promise callbacks run right after each call, within its time limit (by default they would run later, with none).
  const context = vm.createContext(Object.create(null),
      {name, codeGeneration: {strings: true, wasm: false}, microtaskMode: 'afterEvaluate'});
  setup.runInContext(context, {displayErrors: false});
  let script;
  try {
    // A syntax error is made here, in this realm, before any of the codec's code ran: safe to read.
    script = new vm.Script(source, {filename: 'codec.js'});
  } catch (e) {
    const line = typeof e.stack === 'string' ? /codec[.]js:([0-9]+)/.exec(e.stack) : null;
    return failed(name, `${e.name}: ${e.message}${line ? ` (line ${line[1]})` : ''}`);
  }
  try {
    script.runInContext(context, {timeout: timeoutMs, displayErrors: false});
  } catch (e) {
    const reason = e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' ? describe_host(e) : describe_in(context, e);
    return failed(name, reason);
  }
  codecs.set(name, {context, error: null});
  return {ok: true};
}

// A codec that does not compile: a working version of it loaded before stays in use (a bad edit and a reload must
// not take a device type's decoding away), and the server is told so.
function failed(name, reason) {
  const previous = codecs.get(name);
  if (previous && previous.context) return {error: `does not compile: ${reason}`, kept: true};
  codecs.set(name, {context: null, error: reason});
  return {error: `does not compile: ${reason}`};
}

// Answers are JSON text: a call's result is the string the codec's context serialized, sent as it is (parsing it
// again here would only cost time; the server parses and checks it).
function call(request, body) {
  const codec = codecs.get(request.codec);
  if (!codec) return error(request.id, 'codec not loaded');
  if (!codec.context) return error(request.id, `does not compile: ${codec.error}`);
  const script = calls[request.op];
  if (!script) return error(request.id, `unknown op ${request.op}`);
  codec.context.__schwebe_input = body;
  let out;
  try {
    out = script.runInContext(codec.context, {displayErrors: false});
  } catch (e) {
    return error(request.id, describe_host(e));
  } finally {
    codec.context.__schwebe_input = undefined;
  }
  if (typeof out !== 'string') return error(request.id, 'the result cannot be serialized as JSON');
  if (out.length > maxOutput) {
    return error(request.id, `output too large: ${out.length} characters (limit ${maxOutput})`);
  }
  if (out.startsWith('{"__missing":') || out.startsWith('{"__error":')) {
    let parsed = {};
    try {
      parsed = JSON.parse(out);
    } catch (_) {
    }
    if (parsed.__missing) return error(request.id, `the codec has no ${String(parsed.__missing)} function`);
    if (parsed.__error) return error(request.id, String(parsed.__error));
  }
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

// Each answer goes out as soon as it is made, and the next request waits until it has: the server starts the next
// request's time limit when it sees the answer before. A large answer may not fit the socket at once; the next
// request is then handled once it has drained.
function frame(text) {
  const length = Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(4 + length);
  out.writeUInt32BE(length, 0);
  out.write(text, 4, 'utf8');
  return out;
}

// reach_host: a codec's value can come out of its context as an exception this realm did not expect (a throwing
// setter on the context's global when __schwebe_input is cleared, a throwing getter read by describe_host) or as a
// promise it rejected and never handled. Left to node, either ends the worker and, worse, node formats the value's
// stack here, handing this realm's call sites (and so its Array, Object and Function) to the codec's
// Error.prepareStackTrace. work() answers the first kind as a failure of its call; the second is ignored (a codec's
// promises are its own business), and anything else uncaught ends the worker without being read.
process.on('unhandledRejection', () => {});
process.on('uncaughtException', () => process.exit(70));

const requests = [];
let waitingForDrain = false;

function work() {
  while (!waitingForDrain && requests.length) {
    const body = requests.shift();
    let request;
    try {
      request = JSON.parse(body);
    } catch (e) {
      process.exit(3);  // the server never sends this: the stream is out of step
    }
    let answer;
    try {
      answer = handle(request, body);
    } catch (_) {
      // A codec's value thrown into this realm (see reach_host above): never read, only answered.
      answer = request.op === 'load' ? JSON.stringify({...failed(String(request.codec), 'the codec failed'), id: request.id})
                                     : error(request.id, 'the codec failed');
    }
    if (!process.stdout.write(frame(answer))) {
      waitingForDrain = true;
      process.stdout.once('drain', () => {
        waitingForDrain = false;
        work();
      });
    }
  }
}

let buffered = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
  while (buffered.length >= 4) {
    const length = buffered.readUInt32BE(0);
    if (buffered.length < 4 + length) break;
    requests.push(buffered.subarray(4, 4 + length).toString('utf8'));
    buffered = buffered.subarray(4 + length);
  }
  work();
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdout.on('error', () => process.exit(0));
process.stdout.write(frame(JSON.stringify({id: 0, ready: true, node: process.version})));
