// Raw HTTP/1.1 over node's `net`, for tests that misbehave on purpose (trickle, pipeline, drop
// mid-request): a connection that records every byte it gets back and when it was closed, a
// parser of the responses in those bytes, and the server process's RSS, open fds and CPU time
// from /proc.
import net from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { rawSignedRequest } from './harness.mjs';

// The complete responses at the start of `buf` (1xx interim answers skipped); every answer of
// the server has a Content-Length. { responses: [{ status, headers, body }], rest: Buffer }.
export function parseResponses(buf) {
  const responses = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (status >= 200 && buf.length < end + 4 + length) break;
    const body = status >= 200 ? buf.subarray(end + 4, end + 4 + length).toString('utf8') : '';
    at = end + 4 + (status >= 200 ? length : 0);
    if (status >= 200) responses.push({ status, headers, body });
  }
  return { responses, rest: buf.subarray(at) };
}

// One client connection written by hand.
export class RawConn {
  // `allowHalfOpen`: stay open for writing when the server has closed its side (node closes
  // its side too by default).
  constructor(port, { allowHalfOpen = false } = {}) {
    this.sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen });
    this.sock.setNoDelay(true);
    this.received = Buffer.alloc(0);
    this.sent = 0;
    this.closed = false;      // closed, by either side
    this.closedAt = undefined;
    this.error = undefined;   // e.g. EPIPE / ECONNRESET writing after the server closed
    this.waiters = new Set();
    this.connected = new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('error', reject);
    });
    this.connected.catch(() => {});
    this.sock.on('data', (d) => { this.received = Buffer.concat([this.received, d]); this.notify(); });
    this.sock.on('error', (e) => { this.error = e; });
    this.sock.on('close', () => { this.closed = true; this.closedAt = Date.now(); this.notify(); });
  }

  notify() { for (const w of [...this.waiters]) w(); }

  // Resolves once `pred()` is true; rejects after `timeoutMs`.
  until(pred, { timeoutMs = 15000, what = 'condition' } = {}) {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${this.received.length} bytes: ${this.received.toString('latin1').slice(0, 300)}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  responses() { return parseResponses(this.received).responses; }

  // Resolves to the first `n` responses.
  async responsesUntil(n, options = {}) {
    await this.until(() => this.responses().length >= n || this.closed, { what: `${n} responses`, ...options });
    const got = this.responses();
    if (got.length < n) throw new Error(`connection closed after ${got.length} of ${n} responses`);
    return got.slice(0, n);
  }

  // Resolves once the server has closed the connection.
  closedByServer(options = {}) { return this.until(() => this.closed, { what: 'the server to close', ...options }); }

  write(bytes) {
    if (this.closed || this.sock.destroyed) return false;
    this.sent += bytes.length;
    this.sock.write(bytes);
    return true;
  }

  // Sends `bytes` one byte every `intervalMs` until done or closed; resolves to bytes sent.
  async trickle(bytes, intervalMs) {
    for (let i = 0; i < bytes.length; i++) {
      if (!this.write(bytes.subarray(i, i + 1))) return i;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    return bytes.length;
  }

  destroy() { this.sock.destroy(); }
  // Closes with a TCP RST instead of a FIN.
  reset() { if (!this.sock.destroyed) this.sock.resetAndDestroy(); }
}

// Opens `n` connections and resolves once all are established (in batches, so that the
// listen backlog is never the limit).
export async function openConns(port, n, batch = 100) {
  const conns = [];
  for (let i = 0; i < n; i += batch) {
    const some = Array.from({ length: Math.min(batch, n - i) }, () => new RawConn(port));
    await Promise.all(some.map((c) => c.connected));
    conns.push(...some);
  }
  return conns;
}

// The raw bytes of a signed SQS JSON-protocol request.
export function sqsJsonRequest(endpoint, operation, input, extraHeaders = {}) {
  return rawSignedRequest(endpoint, {
    body: JSON.stringify(input), service: 'sqs',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${operation}` },
  }, extraHeaders);
}

// RSS (KiB), open file descriptors and CPU seconds (user + system) of process `pid`.
export function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    rssKb: Number(status.match(/VmRSS:\s+(\d+)/)[1]),
    fds: readdirSync(`/proc/${pid}/fd`).length,
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100,  // utime + stime, in USER_HZ (100)
  };
}
