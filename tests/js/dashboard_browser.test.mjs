// The dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core (no
// browser is downloaded). Orders published through the SNS API move the counters and the
// charts; a poison order shows up in the DLQ view with the reason from the function's logs;
// the Redrive button sends it back. A screenshot is saved as a test artifact
// (build/test-artifacts/dashboard.png, or $ORDERFLOW_ARTIFACT_DIR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, repoRoot } from './lib/harness.mjs';
import { publishOrders } from './lib/stack.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PARAMS = ['--param', 'FunctionTimeout=1', '--param', 'QueueVisibilityTimeout=1'];

function order(id, extra = {}) {
  return { orderId: id, customerId: `c-${id}`, items: [{ sku: 'S', quantity: 1, unitPrice: 3 }], total: 3,
    currency: 'USD', ...extra };
}


const number = (text) => Number(text.replace(/[^\d.-]/g, ''));

test('the dashboard in Chromium: counters and charts move, a poison order is shown with its reason and redriven', { timeout: 240000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    assert.fail(`${CHROMIUM} is missing: scripts/install-deps.sh installs Debian's chromium`);
  }
  const srv = await startServer({ template: true, args: PARAMS });
  const profile = mkdtempSync(path.join(tmpdir(), 'orderflow-chromium-'));
  // A fresh profile directory: nothing from another run.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-dev-shm-usage'],
    viewport: { width: 1400, height: 1300 },
  });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    await page.goto(`${srv.endpoint}/`);
    await page.locator('#live[data-state="live"]').waitFor({ timeout: 15000 });
    assert.equal(await page.locator('[data-name="topic"]').textContent(), 'OrderTopic');
    assert.equal(await page.locator('[data-name="dlq"]').textContent(), 'OrderQueueDLQ-CF');
    // uPlot drew the four charts.
    await page.locator('.chart canvas').nth(3).waitFor({ timeout: 10000 });
    const pointsBefore = Number(await page.locator('body').getAttribute('data-points'));

    await publishOrders(srv.endpoint, [...Array.from({ length: 40 }, (_, i) => JSON.stringify(order(`web-${i}`))),
      JSON.stringify(order('web-poison', { currency: 'DOLLARS' }))]);

    // The counters move: 41 published, 40 stored, invocations counted.
    await page.waitForFunction(() => document.getElementById('topic-total').textContent === '41', null, { timeout: 30000 });
    await page.waitForFunction(() => document.getElementById('table-items').textContent === '40', null, { timeout: 60000 });
    assert.ok(number(await page.locator('#fn-total').textContent()) >= 1);
    // The charts grew with the live samples, and the orders chart has a non-zero point.
    await page.waitForFunction((n) => Number(document.body.dataset.points) >= n + 3, pointsBefore, { timeout: 15000 });

    // The poison order shows in the DLQ view with its reason from the function's logs.
    const row = page.locator('#dlq-rows tr', { hasText: 'web-poison' });
    await row.waitFor({ timeout: 60000 });
    const reason = await row.locator('td.reason').textContent();
    assert.match(reason, /currency/i);
    assert.equal(await row.locator('td').nth(1).textContent(), '3', 'received 3 times');
    assert.equal(await page.locator('#dlq-depth').textContent(), '1');

    // The orders view: search by orderId.
    await page.fill('#order-id', 'web-7');
    await page.click('#order-search button');
    await page.locator('#order-rows tr[data-order-id="web-7"]').waitFor({ timeout: 10000 });

    // The log tail shows the function's lines.
    await page.waitForFunction(() => document.getElementById('log-tail').textContent.includes('web-poison'), null,
      { timeout: 10000 });

    const artifacts = process.env.ORDERFLOW_ARTIFACT_DIR ?? path.join(repoRoot, 'build', 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    const shot = path.join(artifacts, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(existsSync(shot));
    t.diagnostic(`screenshot: ${shot}`);

    // Redrive it with the button: it leaves the DLQ (then, still poison, comes back after 3
    // more receives as a new message).
    const firstId = await row.getAttribute('data-message-id');
    await row.locator('button.redrive-one').click();
    await page.waitForFunction(() => document.getElementById('dlq-status').textContent.startsWith('redriven'), null,
      { timeout: 10000 });
    await page.waitForFunction((id) => !document.querySelector(`#dlq-rows tr[data-message-id="${id}"]`), firstId,
      { timeout: 10000 });
    await page.locator('#dlq-rows tr', { hasText: 'web-poison' }).waitFor({ timeout: 60000 });
    const secondId = await page.locator('#dlq-rows tr', { hasText: 'web-poison' }).getAttribute('data-message-id');
    assert.notEqual(secondId, firstId);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});
