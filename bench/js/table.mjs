// Prints bench/run's one table (Markdown) from the CSV rows the benchmarks wrote.
//
//   node bench/js/table.mjs [--meta FILE] [--backlog N] [--table-items N] CSV...
//
// Each CSV row is figure,value,unit,server (comment lines start with #). Servers: orderflow,
// engine (the in-process engine bench), moto, fauxqs+dynalite. --meta is a file of
// "key: value" lines printed above the table (machine, date, commit, load). Goals are the
// issue's (9; the function's from issue 4, HTTP's from issue 3, the engine's from issue 2),
// shown as met / NOT met; nothing is asserted.
import fs from 'node:fs';

const argv = process.argv.slice(2);
const files = [];
let meta = '';
let backlog = 1000000;
let tableItems = 1000000;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--meta') meta = argv[++i];
  else if (argv[i] === '--backlog') backlog = Number(argv[++i]);
  else if (argv[i] === '--table-items') tableItems = Number(argv[++i]);
  else files.push(argv[i]);
}
const n = (x) => x.toLocaleString('en-US');

const values = new Map(); // "server|figure" -> { value, unit }
const notes = [];
for (const f of files) {
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    if (line.startsWith('# ') && /not compared|failed|not on PATH/.test(line)) notes.push(line.slice(2));
    if (!line || line.startsWith('#') || line.startsWith('figure,')) continue;
    const [figure, value, unit, server] = line.split(',');
    if (server === undefined || server.startsWith('ours/')) continue;
    values.set(`${server}|${figure}`, { value: Number(value), unit });
  }
}
const get = (server, figure) => values.get(`${server}|${figure}`)?.value;
const PEERS = ['moto', 'fauxqs+dynalite'].filter((p) => [...values.keys()].some((k) => k.startsWith(`${p}|`)));

function fmt(v, unit) {
  if (v === undefined || Number.isNaN(v)) return '';
  if (unit === 'KiB') return `${(v / 1024).toFixed(v < 10240 ? 1 : 0)} MB`;
  if (unit === 'ms') {
    const s = v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
    return `${s} ms`;
  }
  if (unit === 'us') return `${Math.round(v)} µs`;
  if (unit === '%') return `${Math.round(v)} %`;
  return `${Math.round(v).toLocaleString('en-US')} ${unit}`;
}

function ratio(ours, peer) {
  if (ours === undefined || peer === undefined || !peer) return '';
  const r = ours / peer;
  return r >= 100 ? `${Math.round(r)}x` : r >= 10 ? `${r.toFixed(1)}x` : r >= 0.01 ? `${r.toFixed(2)}x` : `${r.toExponential(1)}x`;
}

// A goal: (value, row) -> [text, met] or null; met is true, false, null (not decided) or the
// met cell's own text.
const atLeast = (n, unitText) => (v) => (v === undefined ? null : [`>= ${unitText}`, v >= n]);
const below = (n, unitText) => (v) => (v === undefined ? null : [`< ${unitText}`, v < n]);
const cpuGoal = (v) => {
  const peers = PEERS.map((p) => get(p, 'server_cpu_per_order')).filter((x) => x !== undefined);
  if (v === undefined) return null;
  if (peers.length === 0) return ['20x below the best peer (no peer ran)', null];
  const best = Math.min(...peers);
  return [`<= ${fmt(best / 20, 'ms')} (best peer / 20)`, v <= best / 20];
};

// [section] or [label, figure, ours-server, goal?, compare-with-peers?]
const rows = [
  ['End to end: SNS publish -> SQS -> function -> DynamoDB, durable (orderflow: fsync on)'],
  ['orders/s, C++ client (PublishBatch, 8 threads)', 'e2e_orders_per_s', 'orderflow', (v) => (v === undefined ? null
    : ['>= 10,000 (issue 4); >= 30,000 (issue 9)', v >= 30000 ? true : v >= 10000 ? 'issue 4 met; issue 9 NOT met' : false])],
  ['orders/s, C++ client, 1024-bit SNS signing key', 'e2e_orders_per_s_rsa1024', 'orderflow'],
  ['server CPU per order, C++ client run (server + workers)', 'e2e_server_cpu_per_order', 'orderflow'],
  ['orders/s, JS SDK client (PublishBatch, 8 in flight)', 'e2e_js_orders_per_s', 'orderflow', null, true],
  ['server CPU per order, JS SDK client run', 'server_cpu_per_order', 'orderflow', cpuGoal, true],
  ['server CPU per order at 1,000 orders/s offered', 'server_cpu_per_order_at_rate', 'orderflow', null, true],
  ['publish-to-stored p50 at 1,000 orders/s offered (JS)', 'e2e_latency_p50', 'orderflow', null, true],
  ['publish-to-stored p95', 'e2e_latency_p95', 'orderflow', null, true],
  ['publish-to-stored p99', 'e2e_latency_p99', 'orderflow', below(10, '10 ms'), true],
  ['orders/s achieved of the 1,000 offered', 'e2e_latency_achieved', 'orderflow', null, true],
  ['of which the Publish call (due to answered, JS), p50', 'e2e_latency_publish_p50', 'orderflow', null, true],
  ['of which the Publish call (due to answered, JS), p99', 'e2e_latency_publish_p99', 'orderflow', null, true],
  ['publish-to-stored p50 at 1,000 orders/s offered (C++ client, Publish, 32 threads)', 'e2e_cxx_latency_p50', 'orderflow'],
  ['publish-to-stored p95 (C++ client)', 'e2e_cxx_latency_p95', 'orderflow'],
  ['publish-to-stored p99 (C++ client)', 'e2e_cxx_latency_p99', 'orderflow', below(10, '10 ms')],
  ['server CPU per order at 1,000 orders/s offered (C++ client run)', 'e2e_cxx_latency_server_cpu_per_order', 'orderflow'],
  ['SQS over HTTP (C++ client, 16 threads, 256-byte bodies)'],
  ['send + receive + delete, batches of 10', 'sqs_send_receive_delete_batch10', 'orderflow', atLeast(20000, '20,000 (issue 3)'), true],
  ['SendMessage (one message per request)', 'sqs_send_message', 'orderflow', null, true],
  ['ReceiveMessage (1) + DeleteMessage', 'sqs_receive_delete_message', 'orderflow', null, true],
  ['SendMessage p99 at 1,000/s offered', 'sqs_send_message_p99', 'orderflow', below(2, '2 ms (issue 3)'), true],
  ['DynamoDB over HTTP (C++ client, 16 threads)'],
  ['PutItem', 'dynamodb_put_item', 'orderflow', atLeast(15000, '15,000 (issue 3)'), true],
  ['GetItem', 'dynamodb_get_item', 'orderflow', null, true],
  ['Engine in-process (orderflow_engine_bench, fsync on)'],
  ['fsync of 4 KiB, p50', 'fsync_4k_p50', 'engine'],
  ['fsync of 4 KiB, p99', 'fsync_4k_p99', 'engine'],
  ['send + receive + delete, batches of 10, 4 threads with 4 calls in flight each (async calls)', 'send_receive_delete_batch10_async', 'engine', atLeast(50000, '50,000 (issue 2)')],
  ['send + receive + delete, batches of 10, 4 sending + 4 receiving threads (blocking calls)', 'send_receive_delete_batch10', 'engine'],
  ['send, batches of 10 (filling the backlog)', 'send_batch10_fill', 'engine'],
  ['put-if-absent, 64 threads', 'put_if_absent', 'engine', atLeast(50000, '50,000 (issue 2)')],
  ['receive + delete, large vs small backlog', 'large_vs_small_backlog', 'engine', atLeast(80, '80 %')],
  ['Startup (process start to /_orderflow/health 200, deploy/template.yaml provisioned; peers: answering HTTP)'],
  ['fresh data directory (median)', 'startup_ms', 'orderflow', below(50, '50 ms'), true],
  ['existing data directory (restart)', 'startup_existing_ms', 'orderflow', below(50, '50 ms')],
  ['Memory (RSS of the server processes, orderflow with its function workers)'],
  ['idle, 1 s after startup', 'rss_idle', 'orderflow', below(20 * 1024, '20 MB'), true],
  ['under the end-to-end load, C++ client (most)', 'rss_under_load', 'orderflow'],
  ['under the end-to-end load, JS client (most)', 'rss_under_load_js', 'orderflow', null, true],
  [`with ${n(backlog)} messages queued (over HTTP)`, 'rss_with_backlog', 'orderflow'],
  [`engine in-process, ${n(backlog)} messages queued`, 'rss_with_backlog', 'engine', below(300 * 1024, '300 MB (issue 2)')],
  ['The function (the real bootstrap; goals from issue 4)'],
  ['worker cold start (process start to first `next`), p50', 'cold_start_p50', 'orderflow', below(10, '10 ms')],
  ['worker cold start, p90', 'cold_start_p90', 'orderflow'],
  ['invoke to result, cold worker, p50', 'cold_invoke_p50', 'orderflow'],
  ['warm invocation round trip, p50', 'warm_roundtrip_p50', 'orderflow', below(0.5, '0.5 ms')],
  ['warm invocation round trip, p99', 'warm_roundtrip_p99', 'orderflow'],
  ['Scale (over HTTP, C++ client)'],
  ['filling the backlog, SendMessageBatch', 'sqs_backlog_fill', 'orderflow'],
  [`receive + delete (batches of 10, ${n(Math.min(backlog, 50000))} messages), small backlog`, 'sqs_receive_delete_small_backlog', 'orderflow'],
  [`receive + delete, ${n(backlog)}-message backlog`, 'sqs_receive_delete_large_backlog', 'orderflow'],
  ['large backlog vs small', 'large_vs_small_backlog', 'orderflow', atLeast(80, '80 %')],
  [`filling a table with ${n(tableItems)} items, BatchWriteItem of 25`, 'dynamodb_table_fill', 'orderflow'],
  ['RSS with the large table', 'rss_with_large_table', 'orderflow'],
  [`PutItem, ${n(tableItems)}-item table`, 'dynamodb_put_item_large_table', 'orderflow'],
  [`GetItem, ${n(tableItems)}-item table`, 'dynamodb_get_item_large_table', 'orderflow'],
  ['PutItem, large table vs small', 'large_vs_small_table_put', 'orderflow', atLeast(80, '80 %')],
  ['GetItem, large table vs small', 'large_vs_small_table_get', 'orderflow', atLeast(80, '80 %')],
];

if (meta) process.stdout.write(fs.readFileSync(meta, 'utf8').replace(/\n*$/, '\n\n'));
const head = ['figure', 'orderflow'];
for (const p of PEERS) head.push(p, `ours/${p}`);
head.push('goal', 'met');
const out = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
for (const r of rows) {
  if (r.length === 1) {
    out.push(`| **${r[0]}** |${head.slice(1).map(() => ' ').join('|')}|`);
    continue;
  }
  const [label, figure, ours, goal, compare] = r;
  const unit = values.get(`${ours}|${figure}`)?.unit ?? PEERS.map((p) => values.get(`${p}|${figure}`)?.unit).find(Boolean);
  const v = get(ours, figure);
  const cells = [label, fmt(v, unit)];
  for (const p of PEERS) {
    const pv = compare ? get(p, figure) : undefined;
    cells.push(fmt(pv, unit), ratio(v, pv));
  }
  const g = goal ? goal(v) : null;
  cells.push(g ? g[0] : '', g ? (g[1] === null ? '' : typeof g[1] === 'string' ? g[1] : g[1] ? 'met' : 'NOT met') : '');
  out.push(`| ${cells.join(' | ')} |`);
}
process.stdout.write(out.join('\n') + '\n');
const extra = [];
for (const [k, { value, unit }] of values) {
  const [server, figure] = k.split('|');
  const what = {
    e2e_js_not_stored: 'orders of the throughput run not stored within the wait (180 s)',
    e2e_latency_unsent: 'orders of the 1,000/s run not sent within 3x its duration (at most 256 in flight: the server answered too slowly)',
    e2e_not_stored_at_end: 'orders of both runs still not stored at the end',
    e2e_cxx_latency_unsent: 'orders of the C++ 1,000/s run not sent within 3x its duration',
    sqs_send_message_unsent: 'SendMessage requests of the 1,000/s run not sent within 3x its duration',
  }[figure];
  if (what && value > 0) extra.push(`${server}: ${Math.round(value).toLocaleString('en-US')} ${what}`);
}
if (extra.length || notes.length) process.stdout.write('\n' + [...notes, ...extra].map((s) => `- ${s}`).join('\n') + '\n');
