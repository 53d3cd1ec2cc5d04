// Shared pieces of the JavaScript side of bench/run: SDK clients for any endpoint, CPU time and
// RSS of a server's processes from /proc, percentiles, argument parsing.
import fs from 'node:fs';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import http from 'node:http';

export const REGION = 'us-east-1';
export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

// One keep-alive agent per client, enough sockets for the concurrency the bench uses.
function config(endpoint) {
  return {
    endpoint,
    region: REGION,
    credentials,
    maxAttempts: 3,
    // The options of the SDK's Node.js HTTP handler (a plain object is accepted in its place).
    requestHandler: {
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 256 }),
      requestTimeout: 60_000,
    },
  };
}

export function clients({ sns, sqs, dynamodb }) {
  return {
    sns: new SNSClient(config(sns)),
    sqs: new SQSClient(config(sqs)),
    ddb: new DynamoDBClient(config(dynamodb)),
  };
}

// --name value / --flag arguments into an object (numbers stay strings: callers convert).
export function parseArgs(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in defaults)) throw new Error(`unknown flag ${a}`);
    if (typeof defaults[key] === 'boolean') out[key] = true;
    else if (i + 1 >= argv.length) throw new Error(`missing value after ${a}`);
    else out[key] = typeof defaults[key] === 'number' ? Number(argv[++i]) : argv[++i];
  }
  return out;
}

// ---- /proc -------------------------------------------------------------------------------------

const TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux: 100 on every mainstream kernel config

function statFields(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' '); // [0] is field 3 (state)
  } catch {
    return null;
  }
}

// `root` and every process under it.
export function descendants(root) {
  const parent = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (f) parent.set(Number(name), Number(f[1]));
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parent) if (pp === out[i]) out.push(p);
  return out;
}

// utime + stime + cutime + cstime (fields 14-17) of each process under `roots`, in seconds.
export function treeCpuSeconds(roots) {
  let ticks = 0;
  for (const r of roots)
    for (const p of descendants(r)) {
      const f = statFields(p);
      if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    }
  return ticks / TICKS;
}

export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function treeRssKiB(roots) {
  let s = 0;
  for (const r of roots) for (const p of descendants(r)) s += rssKiB(p);
  return s;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
