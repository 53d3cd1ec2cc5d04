// The orderflow dashboard: draws the pipeline from /_orderflow/api/* and keeps it live with the
// Server-Sent Events of /_orderflow/api/events. Everything shown that came from outside (order
// ids, reasons, log lines) is set as text, never as HTML.
'use strict';

(function () {
  const token = new URLSearchParams(location.search).get('token');
  const WINDOW = 900; // samples kept in the charts: 15 minutes at one per second

  function api(path, init) {
    const url = new URL('/_orderflow/api/' + path, location.origin);
    if (token) url.searchParams.set('token', token);
    return fetch(url, init).then(async (r) => {
      const body = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(body.message || r.statusText);
      return body;
    });
  }

  const $ = (id) => document.getElementById(id);
  const fmt = (n) => (n === null || n === undefined || Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en-US'));
  const fmtMs = (n) => (n === null || n === undefined ? '-' : n < 10 ? n.toFixed(1) : Math.round(n).toString());
  const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '-');

  let pipeline = {};
  let values = {};
  let totals = {};

  function key(kind, name, measure) {
    return kind + ':' + name + ':' + measure;
  }
  function value(kind, name, measure) {
    const v = values[key(kind, name, measure)];
    return v === undefined ? null : v;
  }

  // ---- the boxes ----
  function drawBoxes() {
    const p = pipeline;
    $('topic-rate').textContent = fmt(value('topic', p.topic, 'published'));
    $('topic-total').textContent = fmt(totals[key('topic', p.topic, 'published')] || 0);
    $('queue-visible').textContent = fmt(value('queue', p.queue, 'visible'));
    $('queue-in-flight').textContent = fmt(value('queue', p.queue, 'in_flight'));
    $('queue-delayed').textContent = fmt(value('queue', p.queue, 'delayed'));
    const dlq = (value('queue', p.dlq, 'visible') || 0) + (value('queue', p.dlq, 'in_flight') || 0) +
      (value('queue', p.dlq, 'delayed') || 0);
    $('dlq-depth').textContent = fmt(dlq);
    $('fn-rate').textContent = fmt(value('function', p.function, 'invocations'));
    $('fn-total').textContent = fmt(totals[key('function', p.function, 'invocations')] || 0);
    $('fn-errors').textContent = fmt(totals[key('function', p.function, 'errors')] || 0);
    $('fn-workers').textContent = fmt(value('function', p.function, 'busy')) + ' / ' +
      fmt(value('function', p.function, 'workers'));
    $('fn-latency').textContent = fmtMs(value('function', p.function, 'p50_ms')) + ' / ' +
      fmtMs(value('function', p.function, 'p99_ms'));
    $('table-items').textContent = fmt(value('table', p.table, 'items'));
    $('table-rate').textContent = fmt(value('table', p.table, 'stored'));
    const items = value('table', p.table, 'items');
    if (items !== lastItems) {
      lastItems = items;
      loadOrders();
    }
    if (dlq !== lastDlqDepth) {
      lastDlqDepth = dlq;
      loadDlq();
    }
  }

  // ---- the charts ----
  const charts = [];
  function chartSpec(el, series) {
    // series: [{label, key: (pipeline) => series name, stroke}]
    return { el, series, data: [[]].concat(series.map(() => [])), plot: null };
  }
  function initCharts() {
    const p = pipeline;
    charts.push(chartSpec($('chart-orders'), [
      { label: 'published/s', key: key('topic', p.topic, 'published'), stroke: '#2f6fde' },
      { label: 'stored/s', key: key('table', p.table, 'stored'), stroke: '#2e8b57' },
    ]));
    charts.push(chartSpec($('chart-queue'), [
      { label: 'visible', key: key('queue', p.queue, 'visible'), stroke: '#2f6fde' },
      { label: 'in flight', key: key('queue', p.queue, 'in_flight'), stroke: '#d98b00' },
    ]));
    charts.push(chartSpec($('chart-dlq'), [
      { label: 'messages', key: key('queue', p.dlq, 'visible'), stroke: '#c83a3a' },
    ]));
    charts.push(chartSpec($('chart-function'), [
      { label: 'p50 ms', key: key('function', p.function, 'p50_ms'), stroke: '#2f6fde' },
      { label: 'p99 ms', key: key('function', p.function, 'p99_ms'), stroke: '#7a3fd0' },
      { label: 'errors/s', key: key('function', p.function, 'errors'), stroke: '#c83a3a' },
    ]));
  }
  function plotWidth(el) {
    return Math.max(300, el.clientWidth || 400);
  }
  function render(c) {
    if (!window.uPlot) return;
    if (!c.plot) {
      const opts = {
        width: plotWidth(c.el), height: 200,
        scales: { x: { time: true } },
        series: [{}].concat(c.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: false }))),
        axes: [{}, { size: 50 }],
      };
      c.plot = new window.uPlot(opts, c.data, c.el);
    } else {
      c.plot.setData(c.data);
    }
  }
  function addPoint(t, vals) {
    for (const c of charts) {
      c.data[0].push(t / 1000);
      c.series.forEach((s, i) => c.data[i + 1].push(vals[s.key] === undefined ? null : vals[s.key]));
      if (c.data[0].length > WINDOW) c.data.forEach((col) => col.shift());
      render(c);
    }
    const n = charts.length ? charts[0].data[0].length : 0;
    document.body.dataset.points = String(n);
  }
  function loadHistory(h) {
    for (const c of charts) {
      c.data = [h.time.map((t) => t / 1000)].concat(
        c.series.map((s) => (h.series[s.key] || h.time.map(() => null)).slice()));
      render(c);
    }
    document.body.dataset.points = String(h.time.length);
  }
  window.addEventListener('resize', () => {
    for (const c of charts) if (c.plot) c.plot.setSize({ width: plotWidth(c.el), height: 200 });
  });

  // ---- the DLQ ----
  let lastDlqDepth = -1;
  let lastItems = -1;
  let dlqLoading = false;
  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }
  async function loadDlq() {
    if (dlqLoading) return;
    dlqLoading = true;
    try {
      const d = await api('dlq?limit=100');
      const rows = $('dlq-rows');
      rows.replaceChildren();
      for (const m of d.messages) {
        const tr = document.createElement('tr');
        tr.dataset.messageId = m.messageId;
        tr.append(cell(m.orderId || '(no orderId)'), cell(String(m.receiveCount)), cell(time(m.sentTimestamp)),
          cell(time(m.firstReceiveTimestamp)), cell(m.reason || 'no reason logged', 'reason'));
        const td = document.createElement('td');
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = 'Redrive';
        b.className = 'redrive-one';
        b.addEventListener('click', () => redrive({ messageId: m.messageId }, b));
        td.append(b);
        tr.append(td);
        rows.append(tr);
      }
      if (!d.messages.length) {
        const tr = document.createElement('tr');
        tr.className = 'empty';
        const td = cell('empty');
        td.colSpan = 6;
        tr.append(td);
        rows.append(tr);
      }
      $('redrive-all').disabled = !d.messages.length;
    } catch (e) {
      $('dlq-status').textContent = 'cannot read the DLQ: ' + e.message;
    } finally {
      dlqLoading = false;
    }
  }
  async function redrive(body, button) {
    if (button) button.disabled = true;
    try {
      const r = await api('dlq/redrive', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      $('dlq-status').textContent = r.taskHandle ? 'redrive started' : 'redriven: ' + body.messageId;
    } catch (e) {
      $('dlq-status').textContent = 'redrive failed: ' + e.message;
    }
    lastDlqDepth = -1;
    setTimeout(loadDlq, 300);
  }
  $('redrive-all').addEventListener('click', (e) => redrive({}, e.target));

  // ---- orders ----
  function plain(v) {
    // DynamoDB JSON -> plain value.
    if (v === null || typeof v !== 'object') return v;
    if ('S' in v) return v.S;
    if ('N' in v) return Number(v.N);
    if ('BOOL' in v) return v.BOOL;
    if ('NULL' in v) return null;
    if ('L' in v) return v.L.map(plain);
    if ('M' in v) return Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, plain(x)]));
    if ('SS' in v) return v.SS;
    if ('NS' in v) return v.NS.map(Number);
    return v;
  }
  function orderRow(item) {
    const o = plain({ M: item });
    const tr = document.createElement('tr');
    tr.dataset.orderId = o.orderId;
    const items = Array.isArray(o.items) ? o.items.length : '-';
    tr.append(cell(o.orderId), cell(o.customerId || '-'),
      cell(o.total !== undefined ? String(o.total) + ' ' + (o.currency || '') : '-'), cell(String(items)),
      cell(o.receivedAt || '-'));
    return tr;
  }
  async function loadOrders() {
    try {
      const d = await api('orders?limit=20');
      $('orders-count').textContent = d.itemCount.toLocaleString('en-US') + ' in ' + d.table;
      if (!searching) $('order-rows').replaceChildren(...d.items.map(orderRow));
    } catch (e) {
      $('orders-count').textContent = e.message;
    }
  }
  let searching = false;
  $('order-search').addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = $('order-id').value.trim();
    searching = true;
    try {
      const d = await api('orders?id=' + encodeURIComponent(id));
      $('order-result').textContent = 'found';
      $('order-rows').replaceChildren(orderRow(d.item));
    } catch (err) {
      $('order-result').textContent = err.message;
      $('order-rows').replaceChildren();
    }
    setTimeout(() => { searching = false; }, 10000);
  });

  // ---- logs ----
  const MAX_LOG_LINES = 300;
  function addLog(l) {
    const tail = $('log-tail');
    const atBottom = tail.scrollTop + tail.clientHeight >= tail.scrollHeight - 4;
    const line = document.createElement('div');
    line.textContent = new Date(l.timestamp).toISOString().slice(11, 23) + '  ' + l.message;
    tail.append(line);
    while (tail.childElementCount > MAX_LOG_LINES) tail.firstElementChild.remove();
    if (atBottom) tail.scrollTop = tail.scrollHeight;
  }

  // ---- live ----
  function onSample(s) {
    values = s.values || {};
    totals = s.totals || {};
    drawBoxes();
    if (s.time) addPoint(s.time, values);
  }
  function connect() {
    const url = new URL('/_orderflow/api/events', location.origin);
    if (token) url.searchParams.set('token', token);
    const es = new EventSource(url);
    const live = $('live');
    es.addEventListener('open', () => { live.dataset.state = 'live'; live.textContent = 'live'; });
    es.addEventListener('error', () => { live.dataset.state = 'error'; live.textContent = 'reconnecting'; });
    es.addEventListener('sample', (e) => onSample(JSON.parse(e.data)));
    es.addEventListener('log', (e) => addLog(JSON.parse(e.data)));
  }

  async function start() {
    try {
      const o = await api('overview');
      pipeline = o.pipeline;
      for (const el of document.querySelectorAll('[data-name]')) el.textContent = pipeline[el.dataset.name] || '-';
      initCharts();
      loadHistory(await api('history'));
      const logs = await api('logs?limit=200');
      logs.lines.forEach(addLog);
      values = o.sample.values || {};
      totals = o.sample.totals || {};
      drawBoxes();
    } catch (e) {
      $('live').dataset.state = 'error';
      $('live').textContent = e.message;
      return;
    }
    connect();
    setInterval(loadOrders, 10000);
  }
  start();
})();
