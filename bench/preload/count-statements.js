/**
 * Preloaded into each service by bench:e2e (`NODE_OPTIONS=--require <this file>`): counts the SQL
 * statements the process sends through `pg` (pg_stat_statements is not loaded on these machines),
 * without touching the services' code. On SIGUSR2 it writes the counts to
 * `$BENCH_STATS_DIR/$BENCH_PROCESS_NAME.json`, so the bench can take them before and after the load.
 * Plain CommonJS: the services run from dist with plain node.
 */
'use strict';
const { renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Client } = require('pg');

const dir = process.env.BENCH_STATS_DIR;
const name = process.env.BENCH_PROCESS_NAME;
if (!dir || !name) throw new Error('count-statements preload: BENCH_STATS_DIR and BENCH_PROCESS_NAME are required');

// Simple-protocol texts of several statements are split into their statements (the hot paths send
// three shapes: `BEGIN; [SET LOCAL plan_cache_mode = …;] EXECUTE <name>(<literals>)`,
// `EXECUTE <name>(<literals>); COMMIT`, and both at once for a statement run on its own with its plans
// (libs/sql's runAlone)); an EXECUTE counts by its prepared statement's name, never by its literals
// (they may be personal data). The SET LOCAL is part of how the transaction begins (libs/sql's
// beginWith), counted with its BEGIN.
const BEGUN = /^\s*BEGIN\s*;\s*(?:SET\s+LOCAL\s+[^;]*;\s*)?(EXECUTE\s+[A-Za-z_][A-Za-z0-9_]*)/i;
const COMMITTED = /^\s*(EXECUTE\s+[A-Za-z_][A-Za-z0-9_]*)[\s\S]*;\s*COMMIT\s*$/i;
const COMMITTED_TAIL = /;\s*COMMIT\s*$/i;
const EXECUTE = /^\s*(EXECUTE\s+[A-Za-z_][A-Za-z0-9_]*)/i;
const statementsOf = (text) => {
  let match = BEGUN.exec(text);
  if (match) return COMMITTED_TAIL.test(text) ? ['BEGIN', match[1], 'COMMIT'] : ['BEGIN', match[1]];
  match = COMMITTED.exec(text);
  if (match) return [match[1], 'COMMIT'];
  match = EXECUTE.exec(text);
  return [match ? match[1] : text];
};
const CONTROL = /^\s*(BEGIN|START TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i;
const OPENS = /^\s*(BEGIN|START TRANSACTION)\b/i;
const ENDS = /^\s*(COMMIT|ROLLBACK)\b/i;
// commits: COMMITs plus statements sent outside a transaction (each is its own commit), so the
// bench can say which service spends the commits pg_stat_database counts. `shapes` counts them by
// the statement's first words (no parameters: they may be personal data); `every` counts every
// statement but transaction control by the same shape: where the statements go.
const counts = { roundTrips: 0, statements: 0, transactionControl: 0, commits: 0, shapes: {}, every: {}, waitedMs: {} };
const inTransaction = new WeakMap(); // client → the first statement of its open transaction
// A statement's text is a constant of the code (parameters travel apart): its shape is worked out once.
// Bounded, so a process that builds texts (VALUES lists of each batch's size) cannot grow it without end.
const shapes = new Map();
const shapeOf = (text) => {
  let shape = shapes.get(text);
  if (shape === undefined) {
    shape = text.replace(/\s+/g, ' ').trim().slice(0, 90);
    if (shapes.size < 5_000) shapes.set(text, shape);
  }
  return shape;
};
const query = Client.prototype.query;
function count(client, text, every) {
  counts.statements += 1;
  if (typeof text !== 'string') return;
  if (every === undefined) counts.transactionControl += 1;
  else counts.every[every] = (counts.every[every] || 0) + 1;
  if (OPENS.test(text)) inTransaction.set(client, '');
  else if (ENDS.test(text)) {
    const first = inTransaction.get(client);
    inTransaction.delete(client);
    if (/^\s*COMMIT/i.test(text)) {
      counts.commits += 1;
      const shape = `transaction: ${first || '(empty)'}`;
      counts.shapes[shape] = (counts.shapes[shape] || 0) + 1;
    }
  } else if (inTransaction.has(client)) {
    if (inTransaction.get(client) === '' && every !== undefined) inTransaction.set(client, every);
  } else {
    counts.commits += 1;
    const shape = `autocommit: ${every ?? shapeOf(text)}`;
    counts.shapes[shape] = (counts.shapes[shape] || 0) + 1;
  }
}
Client.prototype.query = function countedQuery(config, ...rest) {
  const text = typeof config === 'string' ? config : config && config.text;
  counts.roundTrips += 1;
  const parts = typeof text === 'string' ? statementsOf(text) : [undefined];
  // The shape the answer's time is charged to: the round trip's statement (transaction control aside).
  let every;
  for (const part of parts) {
    // The statement's shape, worked out once: undefined for transaction control (and no text).
    const shape = typeof part === 'string' && !CONTROL.test(part) ? shapeOf(part) : undefined;
    every ??= shape;
    count(this, part, shape);
  }
  // Time from sending to the answer, by shape (ms): where the statements' time goes, as the service
  // waits for it (PostgreSQL's work, the round trip and, on a busy machine, the wait for a CPU).
  if (every === undefined) return query.call(this, config, ...rest);
  const started = process.hrtime.bigint();
  const note = () => {
    counts.waitedMs[every] = (counts.waitedMs[every] || 0) + Number(process.hrtime.bigint() - started) / 1e6;
  };
  const last = rest[rest.length - 1];
  if (typeof last === 'function') {
    rest[rest.length - 1] = function timedCallback(...args) {
      note();
      return last.apply(this, args);
    };
    return query.call(this, config, ...rest);
  }
  if (config && typeof config.callback === 'function') {
    const callback = config.callback;
    config.callback = function timedCallback(...args) {
      note();
      return callback.apply(this, args);
    };
    return query.call(this, config, ...rest);
  }
  const answer = query.call(this, config, ...rest);
  if (answer && typeof answer.then === 'function') answer.then(note, note);
  return answer;
};

// Kafka requests by API (Fetch, Produce, OffsetCommit, Heartbeat, …): what the broker's CPU is
// spent on. kafkajs sends every request through Connection#send; counted there, by API name.
const kafkaRequests = {};
try {
  const Connection = require('kafkajs/src/network/connection');
  const send = Connection.prototype.send;
  Connection.prototype.send = function countedSend(options) {
    const api = options && options.request && options.request.apiName;
    if (api) kafkaRequests[api] = (kafkaRequests[api] || 0) + 1;
    return send.call(this, options);
  };
} catch {
  // A process without kafkajs sends no Kafka requests.
}

// Where the RSS goes (issue 12 goal 4): every second, the V8 heap (committed), memory outside it
// that V8 accounts for (external, array buffers) and RSS; their maxima go out with the counts.
const memoryMax = { rss: 0, v8Heap: 0, external: 0, arrayBuffers: 0 };
setInterval(() => {
  const m = process.memoryUsage();
  memoryMax.rss = Math.max(memoryMax.rss, m.rss);
  memoryMax.v8Heap = Math.max(memoryMax.v8Heap, m.heapTotal);
  memoryMax.external = Math.max(memoryMax.external, m.external);
  memoryMax.arrayBuffers = Math.max(memoryMax.arrayBuffers, m.arrayBuffers);
}, 1000).unref();

process.on('SIGUSR2', () => {
  // Written aside and renamed: the bench never reads half a file.
  const file = join(dir, `${name}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify({ ...counts, kafkaRequests, memoryMax, pid: process.pid, at: Date.now() }));
  renameSync(`${file}.tmp`, file);
});
