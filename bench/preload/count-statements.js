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

// A multi-statement string sent with the simple protocol counts once; none is sent on the hot paths.
const CONTROL = /^\s*(BEGIN|START TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i;
const counts = { statements: 0, transactionControl: 0 };
const query = Client.prototype.query;
Client.prototype.query = function countedQuery(config, ...rest) {
  const text = typeof config === 'string' ? config : config && config.text;
  counts.statements += 1;
  if (typeof text === 'string' && CONTROL.test(text)) counts.transactionControl += 1;
  return query.call(this, config, ...rest);
};

process.on('SIGUSR2', () => {
  // Written aside and renamed: the bench never reads half a file.
  const file = join(dir, `${name}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify({ ...counts, pid: process.pid, at: Date.now() }));
  renameSync(`${file}.tmp`, file);
});
