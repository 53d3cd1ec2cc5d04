// Shared black-box harness: starts the real `orderflow up --port 0` on a temp data dir, reads
// the bound endpoint from its output, and stops it (SIGTERM, then checks it drained and
// exited 0). Also: clients configured for it, awscli runner, and polling (never sleeping a
// fixed time before asserting).
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const ACCESS_KEY = 'test';
export const SECRET_KEY = 'test';
export const REGION = 'us-east-1';
// Debian's awscli 2.9 (query protocol for SQS); a newer aws may be earlier on PATH.
export const AWSCLI = '/usr/bin/aws';

export function orderflowBinary() {
  const candidates = [process.env.ORDERFLOW_BIN, path.join(repoRoot, 'build/orderflow'),
    path.join(repoRoot, 'build-server/orderflow')].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`orderflow binary not found (set ORDERFLOW_BIN); tried ${candidates.join(', ')}`);
  return found;
}

// Starts the server; resolves to { endpoint, port, dataDir, proc, output(), stop() }.
// Without `template` the server provisions no stack (--no-template): an empty cloud. With
// `template: true` it provisions deploy/template.yaml, with `template: 'path'` that file.
export async function startServer({ args = [], env = {}, dataDir, template } = {}) {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'orderflow-test-'));
  const stackArgs = template === undefined || template === false ? ['--no-template']
    : ['--template', template === true ? path.join(repoRoot, 'deploy/template.yaml') : template];
  const proc = spawn(orderflowBinary(), ['up', '--port', '0', '--data-dir', dir, ...stackArgs, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const endpoint = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 30 s:\n${out}`)), 30000);
    const check = () => {
      const m = out.match(/listening on (http:\/\/[\d.]+:(\d+))/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    proc.stdout.on('data', check);
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`server exited (${code ?? signal}):\n${out}`)); });
  });
  const port = Number(new URL(endpoint).port);
  let stopped = false;
  return {
    endpoint, port, dataDir: dir, proc, exited,
    output: () => out,
    // Drains with SIGTERM; resolves to the exit status. Removes the data dir unless kept.
    async stop({ keepData = false, signal = 'SIGTERM' } = {}) {
      if (!stopped) {
        stopped = true;
        proc.kill(signal);
      }
      const kill = setTimeout(() => proc.kill('SIGKILL'), 30000);
      const status = await exited;
      clearTimeout(kill);
      if (!keepData && !dataDir) rmSync(dir, { recursive: true, force: true });
      return status;
    },
  };
}

export const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };

export function clientConfig(endpoint, extra = {}) {
  return { endpoint, region: REGION, credentials, maxAttempts: 1, ...extra };
}

// Runs Debian's awscli against the server; resolves to { code, stdout, stderr, json }.
export function awscli(endpoint, args, { accessKey = ACCESS_KEY, secretKey = SECRET_KEY } = {}) {
  return new Promise((resolve) => {
    execFile(AWSCLI, ['--endpoint-url', endpoint, '--output', 'json', ...args], {
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp',
        AWS_ACCESS_KEY_ID: accessKey, AWS_SECRET_ACCESS_KEY: secretKey, AWS_DEFAULT_REGION: REGION,
        AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_MAX_ATTEMPTS: '1', AWS_PAGER: '',
      },
      maxBuffer: 64 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      let json;
      try { json = stdout.trim() ? JSON.parse(stdout) : undefined; } catch { json = undefined; }
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr, json });
    });
  });
}

// Polls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws).
export async function waitFor(fn, { timeoutMs = 10000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

let counter = 0;
// A queue name unique within this process.
export function uniqueName(prefix = 'q') {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

// ---- A small SigV4 signer for raw requests (the SDKs and awscli sign their own) ----
import { createHash, createHmac } from 'node:crypto';

const sha256hex = (s) => createHash('sha256').update(s).digest('hex');
const hmac = (key, s) => createHmac('sha256', key).update(s).digest();
const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

// Form-encodes [name, value] pairs (or an object) as AWS clients do.
export function formBody(params) {
  const pairs = Array.isArray(params) ? params : Object.entries(params);
  return pairs.map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`).join('&');
}

// Signs a request with SigV4 (header form): returns { url, headers } (the headers without
// host, which fetch and rawSignedRequest add). `path` must already be URI-encoded
// and `query` is a list of [name, value] pairs. `sign: false` leaves it unsigned.
export function signRequest(endpoint, {
  method = 'POST', path: reqPath = '/', query = [], headers = {}, body = '', service = 'sqs',
  accessKey = ACCESS_KEY, secretKey = SECRET_KEY, region = REGION, date = new Date(), sign = true,
} = {}) {
  const canonicalQuery = query.map(([k, v]) => [rfc3986(k), rfc3986(String(v))])
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : (a[0] < b[0] ? -1 : 1)))
    .map(([k, v]) => `${k}=${v}`).join('&');
  const url = new URL(`${reqPath}${canonicalQuery ? `?${canonicalQuery}` : ''}`, endpoint);
  const amzDate = date.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const h = { host: url.host, 'x-amz-date': amzDate };
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = String(v);
  if (sign) {
    const names = Object.keys(h).sort();
    const canonicalRequest = [method, reqPath, canonicalQuery, names.map((n) => `${n}:${h[n].trim()}\n`).join(''),
      names.join(';'), sha256hex(body)].join('\n');
    const scope = `${day}/${region}/${service}/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
    const key = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, day), region), service), 'aws4_request');
    h.authorization = `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${hmac(key, stringToSign).toString('hex')}`;
  }
  delete h.host;
  return { url, headers: h };
}

// Sends one request signed with SigV4 (header form); the options of signRequest.
export async function signedFetch(endpoint, options = {}) {
  const { method = 'POST', body = '' } = options;
  const { url, headers } = signRequest(endpoint, options);
  const res = await fetch(url, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

// One signed request as the raw bytes of an HTTP/1.1 message (for sockets written by hand),
// with Content-Length; `extraHeaders` are added unsigned after signing (e.g. Connection).
export function rawSignedRequest(endpoint, options = {}, extraHeaders = {}) {
  const { method = 'POST', body = '' } = options;
  const { url, headers } = signRequest(endpoint, options);
  const bytes = Buffer.from(body);
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [k, v] of Object.entries({ ...headers, 'content-length': bytes.length, ...extraHeaders })) lines.push(`${k}: ${v}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), bytes]);
}

// A signed query-protocol call: resolves to { status, headers, text }.
export function queryCall(endpoint, params, { service = 'sqs', ...rest } = {}) {
  return signedFetch(endpoint, {
    body: formBody(params), service,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, ...rest,
  });
}

// A signed JSON-protocol call: resolves to { status, headers, text, json }.
export async function jsonCall(endpoint, target, body, { service = 'sqs', contentType = 'application/x-amz-json-1.0', ...rest } = {}) {
  const r = await signedFetch(endpoint, {
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), service,
    headers: { 'content-type': contentType, 'x-amz-target': target }, ...rest,
  });
  try { r.json = JSON.parse(r.text); } catch { r.json = undefined; }
  return r;
}

// The text of the first <tag>…</tag> in an XML document.
export function xmlText(xml, tag) {
  const m = xml.match(new RegExp(`<${tag}>([^<]*)</${tag}>`));
  return m ? m[1] : undefined;
}

// PIDs of the function worker processes of the server on `port` (their AWS_LAMBDA_RUNTIME_API
// names it), of function `fn` only when given. Zombies have no environ and are not listed.
export function workerPids(port, fn) {
  const needle = `AWS_LAMBDA_RUNTIME_API=127.0.0.1:${port}/${fn ? `_orderflow/lambda/${fn}/` : ''}`;
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let env;
    try { env = readFileSync(`/proc/${entry}/environ`, 'latin1'); } catch { continue; }
    if (env.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}
