// The side-by-side part of bench/run: starts each server, measures its startup and idle
// memory, runs the C++ HTTP bench (build/bench/orderflow_http_bench) and the JavaScript
// end-to-end client (e2e.mjs) against it, and prints every figure as CSV
// (figure,value,unit,server) on stdout; progress on stderr.
//
//   node bench/js/compare.mjs --build-dir DIR [--servers orderflow,moto,fauxqs+dynalite]
//        [--smoke] [--orders N] [--rate R] [--latency-seconds S] [--backlog N]
//        [--table-items N] [--startup-runs K]
//
// Servers (each skipped with a "# ..." line when not installed):
//   orderflow         DIR/orderflow up --template deploy/template.yaml on a fresh data dir
//                     (fsync on); ready = GET /_orderflow/health answers 200; its function
//                     workers consume
//   moto              moto_server from PATH (in memory); ready = it answers HTTP; e2e.mjs
//                     --consumer does the function's work
//   fauxqs+dynalite   bench/peers (npm ci by bench/run): fauxqs for SNS + SQS and dynalite
//                     for DynamoDB, both in memory; ready = both answer HTTP; --consumer
// Per server: startup_ms (process start to ready, median of --startup-runs fresh starts),
// startup_existing_ms (orderflow only: restart on the data dir of the run before),
// rss_idle (KiB: the server's processes 1 s after ready), then the HTTP figures on a fresh
// instance (ours also --backlog and --table-items), then the e2e figures on a fresh instance.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, sleep, treeRssKiB } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const a = parseArgs(process.argv.slice(2), {
  buildDir: 'build-release',
  servers: 'orderflow,moto,fauxqs+dynalite',
  smoke: false,
  orders: 2000,
  rate: 1000,
  latencySeconds: 10,
  backlog: 1000000,
  tableItems: 1000000,
  startupRuns: 5,
  httpSeconds: 10,
});
if (a.smoke) Object.assign(a, { rate: 100, latencySeconds: 1, startupRuns: 1 }); // sizes: the flags
const buildDir = path.resolve(root, a.buildDir);
const log = (s) => process.stderr.write(`compare: ${s}\n`);
const emit = (server, name, value, unit) => {
  const v = unit === 'ms' ? value.toFixed(3) : String(Math.round(value));
  process.stdout.write(`${name},${v},${unit},${server}\n`);
};

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Resolves with the status of GET url, or null when nothing answers.
function probe(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => {
      req.destroy();
      resolve(null);
    });
  });
}

function onPath(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

// moto_server on PATH is usually a pyenv shim (a shell script that finds the interpreter);
// start the real script, so that its startup is not the shim's.
function motoCommand() {
  try {
    const real = execFileSync('pyenv', ['which', 'moto_server'], { encoding: 'utf8' }).trim();
    if (real) return real;
  } catch {}
  return 'moto_server';
}

// Each server: start(dataDir) -> { procs, pids, endpoints, ready: [urls that must answer],
// readyStatus (null: any) }.
const servers = {
  orderflow: {
    available: () => fs.existsSync(path.join(buildDir, 'orderflow')),
    why: `no ${buildDir}/orderflow`,
    consumer: false,
    async start(dataDir) {
      const port = await freePort();
      const p = spawn(
        path.join(buildDir, 'orderflow'),
        ['up', '--port', String(port), '--data-dir', dataDir, '--template', path.join(root, 'deploy/template.yaml')],
        { stdio: 'ignore' },
      );
      const url = `http://127.0.0.1:${port}`;
      return { procs: [p], endpoints: { sns: url, sqs: url, dynamodb: url }, ready: [`${url}/_orderflow/health`], status: 200 };
    },
  },
  moto: {
    available: () => onPath('moto_server'),
    why: 'moto_server is not on PATH',
    consumer: true,
    async start() {
      const port = await freePort();
      const p = spawn(motoCommand(), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
      const url = `http://127.0.0.1:${port}`;
      return { procs: [p], endpoints: { sns: url, sqs: url, dynamodb: url }, ready: [`${url}/`], status: null };
    },
  },
  'fauxqs+dynalite': {
    available: () =>
      fs.existsSync(path.join(root, 'bench/peers/node_modules/fauxqs')) &&
      fs.existsSync(path.join(root, 'bench/peers/node_modules/dynalite')),
    why: 'bench/peers/node_modules is not installed (bench/run installs it with npm ci)',
    consumer: true,
    async start() {
      const [p1, p2] = [await freePort(), await freePort()];
      const fq = spawn(process.execPath, [path.join(root, 'bench/peers/fauxqs.mjs'), String(p1)], { stdio: 'ignore' });
      const dl = spawn(
        process.execPath,
        [path.join(root, 'bench/peers/node_modules/dynalite/cli.js'), '--port', String(p2), '--host', '127.0.0.1'],
        { stdio: 'ignore' },
      );
      const q = `http://127.0.0.1:${p1}`;
      const d = `http://127.0.0.1:${p2}`;
      return { procs: [fq, dl], endpoints: { sns: q, sqs: q, dynamodb: d }, ready: [`${q}/health`, `${d}/`], status: null };
    },
  },
};

async function waitReady(s, t0, timeoutMs = 60000) {
  for (const url of s.ready)
    for (;;) {
      const st = await probe(url);
      if (st !== null && (s.status === null || st === s.status)) break;
      for (const p of s.procs)
        if (p.exitCode !== null || p.signalCode !== null) throw new Error(`${p.spawnfile} exited while starting`);
      if (Number(process.hrtime.bigint() - t0) / 1e6 > timeoutMs) throw new Error(`${url} not ready in ${timeoutMs} ms`);
      await sleep(1);
    }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function start(def, dataDir) {
  const t0 = process.hrtime.bigint();
  const s = await def.start(dataDir);
  s.startupMs = await waitReady(s, t0);
  s.pids = s.procs.map((p) => p.pid);
  return s;
}

async function stop(s) {
  await Promise.all(
    s.procs.map(
      (p) =>
        new Promise((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          const kill = setTimeout(() => p.kill('SIGKILL'), 15000);
          p.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          p.kill('SIGTERM');
        }),
    ),
  );
}

// Runs a bench program; passes its CSV rows through (with `server` as the last column when
// `tag`), returns when it exits; throws when it fails.
function runBench(cmd, args, server, tag) {
  return new Promise((resolve, reject) => {
    log(`${server}: ${path.basename(cmd)} ${args.join(' ')}`);
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('#') || line.startsWith('figure,') || line === '') continue;
        process.stdout.write(tag ? `${line},${server}\n` : `${line}\n`);
      }
    });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

const median = (v) => [...v].sort((x, y) => x - y)[Math.floor((v.length - 1) / 2)];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-compare-'));
let failures = 0;
try {
  for (const name of a.servers.split(',').filter(Boolean)) {
    const def = servers[name];
    if (!def) throw new Error(`unknown server ${name}`);
    if (!def.available()) {
      process.stdout.write(`# ${name}: ${def.why}: not compared\n`);
      continue;
    }
    try {
      // Startup and idle memory.
      const startups = [];
      const restarts = [];
      const idle = [];
      for (let i = 0; i < a.startupRuns; i++) {
        const dir = path.join(tmp, `${name}-startup-${i}`);
        let s = await start(def, dir);
        startups.push(s.startupMs);
        await sleep(1000);
        idle.push(treeRssKiB(s.pids));
        await stop(s);
        if (name === 'orderflow') {
          s = await start(def, dir);
          restarts.push(s.startupMs);
          await stop(s);
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }
      emit(name, 'startup_ms', median(startups), 'ms');
      if (restarts.length) emit(name, 'startup_existing_ms', median(restarts), 'ms');
      emit(name, 'rss_idle', median(idle), 'KiB');

      // The HTTP figures with the C++ client.
      {
        const dir = path.join(tmp, `${name}-http`);
        const s = await start(def, dir);
        const args = [
          '--sqs-endpoint', s.endpoints.sqs,
          '--dynamodb-endpoint', s.endpoints.dynamodb,
          '--label', name,
          '--server-pids', s.pids.join(','),
        ];
        if (a.smoke) args.push('--smoke');
        else args.push('--seconds', String(a.httpSeconds));
        if (name === 'orderflow') args.push('--backlog', String(a.backlog), '--table-items', String(a.tableItems));
        try {
          await runBench(path.join(buildDir, 'bench/orderflow_http_bench'), args, name, false);
        } finally {
          await stop(s);
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }

      // End to end with the JavaScript SDK.
      {
        const dir = path.join(tmp, `${name}-e2e`);
        const s = await start(def, dir);
        const args = [
          '--no-warnings',
          path.join(here, 'e2e.mjs'),
          '--sns', s.endpoints.sns,
          '--sqs', s.endpoints.sqs,
          '--dynamodb', s.endpoints.dynamodb,
          '--label', name,
          '--server-pids', s.pids.join(','),
          '--orders', String(a.orders),
          '--rate', String(a.rate),
          '--latency-seconds', String(a.latencySeconds),
        ];
        if (def.consumer) args.push('--consumer');
        try {
          await runBench(process.execPath, args, name, false);
        } finally {
          await stop(s);
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
    } catch (e) {
      failures++;
      process.stdout.write(`# ${name}: failed: ${e.message}\n`);
      log(`${name} failed: ${e.stack}`);
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);
