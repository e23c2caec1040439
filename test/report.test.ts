// gpo report: the page opened in headless Chromium (Debian's chromium, driven by playwright-core): no console
// errors, no requests but the file itself, charts drawn, hostile trace strings inert, anomalies linked to
// the charts. Screenshots go to test-artifacts/. Plus escaping helpers, determinism and a large trace.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LoadedBaseline } from '../src/baseline/document.js';
import { parseBaseline } from '../src/detectors/load-baseline.js';
import { baselineText, trainBaseline } from '../src/train/train.js';
import { syscallBatch } from '../src/import/trace-batches.js';
import { buildHtmlReport } from '../src/report/html/index.js';
import { escapeHtml, html, scriptJson } from '../src/report/html/escape.js';
import { progress } from '../src/cli/progress.js';
import { openTrace } from '../src/trace/reader.js';
import { BATCH_ROWS } from '../src/trace/schema.js';
import { writeParquet } from '../src/trace/writer.js';
import { fixtureMetadata, GAME_PID, HOSTILE, START_NS } from './fixtures/make-traces.js';
import { ROOT, runGpo } from './helpers/gpo.js';

const CHROMIUM = '/usr/bin/chromium';
const TRACES = join(ROOT, 'test', 'fixtures', 'traces');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const dir = mkdtempSync(join(tmpdir(), 'gpo-report-'));
mkdirSync(ARTIFACTS, { recursive: true });

async function fixtureBaseline(): Promise<{ loaded: LoadedBaseline; path: string }> {
  const { baseline } = await trainBaseline([join(TRACES, 'clean-1.parquet'), join(TRACES, 'clean-2.parquet')]);
  const path = join(dir, 'baseline.json');
  writeFileSync(path, baselineText(baseline));
  return { loaded: parseBaseline(JSON.parse(baselineText(baseline)), path), path };
}

/** A trace of `rows` syscalls over 60 s in 8 threads: far more rows than any chart can show. */
async function largeTrace(path: string, rows: number): Promise<string> {
  const batches = [];
  for (let start = 0; start < rows; start += BATCH_ROWS) {
    const n = Math.min(BATCH_ROWS, rows - start);
    const ts = new BigInt64Array(n);
    const pid = new Int32Array(n).fill(GAME_PID);
    const tid = new Int32Array(n);
    const nr = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const row = start + i;
      ts[i] = START_NS + BigInt(Math.floor((row * 60e9) / rows));
      tid[i] = GAME_PID + (row % 8);
      nr[i] = [0, 1, 7, 202, 228, 230][row % 6]!;
    }
    const comm = new TextEncoder().encode('worker');
    batches.push(syscallBatch({ ts_ns: ts, pid, tid, nr, comm: () => comm }));
  }
  const metadata = fixtureMetadata(rows);
  metadata.clock.end_ns = (START_NS + 60_000_000_000n).toString();
  await writeParquet(batches, path, metadata);
  return path;
}

interface PageReport {
  requests: string[];
  consoleErrors: string[];
  dialogs: string[];
}

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh does)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
});

async function openReport(file: string, screenshot: string): Promise<{ page: import('playwright-core').Page; seen: PageReport }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const seen: PageReport = { requests: [], consoleErrors: [], dialogs: [] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => seen.consoleErrors.push(String(e)));
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.screenshot({ path: join(ARTIFACTS, screenshot), fullPage: true });
  return { page, seen };
}

describe('escaping for HTML', () => {
  it('makes markup, quotes and control characters inert', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(html('\x1b[31mred')).toBe('\\x1b[31mred');
  });

  it('keeps JSON inside a script block from closing it or breaking lines', () => {
    const text = scriptJson({ s: '</script><script>alert(1)</script>\u2028\u2029&' });
    expect(text).not.toMatch(/[<>&\u2028\u2029]/u);
    expect(JSON.parse(text)).toEqual({ s: '</script><script>alert(1)</script>\u2028\u2029&' });
  });
});

describe('progress line', () => {
  const stream = (isTTY: boolean) => {
    const written: string[] = [];
    return { written, stream: { isTTY, columns: 60, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream };
  };

  it('writes nothing when stderr is not a terminal', () => {
    const { written, stream: s } = stream(false);
    const p = progress('report: reading', { total: 100, stream: s });
    p.update(50);
    p.note('scoring');
    p.finish();
    expect(written).toEqual([]);
  });

  it('redraws one status line on a terminal and clears it at the end', () => {
    // A frozen clock: on a loaded machine the two updates could otherwise be 100 ms apart.
    vi.useFakeTimers({ toFake: ['Date'] });
    const { written, stream: s } = stream(true);
    const p = progress('report: reading', { total: 200, stream: s });
    p.update(50);
    p.update(60); // within 100 ms of the last redraw: skipped
    p.note('scoring against the baseline');
    p.finish();
    vi.useRealTimers();
    expect(written).toHaveLength(3);
    expect(written[0]).toMatch(/^\r\x1b\[2Kreport: reading 25%  50\/200 rows  \d+\.\d s$/);
    expect(written[1]).toBe('\r\x1b[2Kreport: reading  scoring against the baseline');
    expect(written[2]).toBe('\r\x1b[2K');
  });
});

describe('gpo report', () => {
  it('writes a self-contained page with a strict CSP, the same bytes each time', async () => {
    const { loaded, path } = await fixtureBaseline();
    const trace = await openTrace(join(TRACES, 'cheat.parquet'));
    const page = await buildHtmlReport(trace, loaded, { baselinePath: path });
    expect(await buildHtmlReport(trace, loaded, { baselinePath: path })).toBe(page);
    expect(page).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/);
    expect(page).not.toMatch(/https?:\/\/|@import|url\(/i);
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<svg onload');
    expect(page).not.toMatch(/[\u0000-\u0008\u000b\u001b\u007f\u2028\u2029]/u);
    expect(page.match(/<script/g)).toHaveLength(2);
  });

  it('renders in Chromium: charts drawn, no errors, no requests, hostile strings inert, anomalies linked', async () => {
    const { path: baselinePath } = await fixtureBaseline();
    const out = join(ARTIFACTS, 'report.html');
    const run = runGpo(['report', join(TRACES, 'cheat.parquet'), '--baseline', baselinePath, '-o', out]);
    expect(run.code, run.stderr).toBe(0);
    const { page, seen } = await openReport(out, 'report.png');
    expect(seen.requests).toEqual([pathToFileURL(out).href]);
    expect(seen.consoleErrors).toEqual([]);
    expect(seen.dialogs).toEqual([]);

    const dom = await page.evaluate(() => ({
      series: [...document.querySelectorAll('#chart-rates path.series')].map((p) => (p.getAttribute('d') ?? '').length),
      novelty: document.querySelector('#chart-novelty path.novelty')?.getAttribute('d')?.length ?? 0,
      libraryMarks: document.querySelectorAll('#chart-libraries circle.mark').length,
      tamperMarks: document.querySelectorAll('#chart-tampering circle.mark').length,
      tamperLanes: [...document.querySelectorAll('#chart-tampering .lane-label')].map((t) => t.firstChild?.textContent),
      bars: document.querySelectorAll('#chart-syscalls rect.bar').length,
      newBars: document.querySelectorAll('#chart-syscalls rect.bar.new').length,
      anomalies: document.querySelectorAll('tr.anomaly').length,
      bands: document.querySelectorAll('#chart-rates .band').length,
      injected: document.querySelectorAll('img, iframe, object, embed, [onerror], [onload], [onclick]').length,
      scripts: document.querySelectorAll('script').length,
      svgs: [...document.querySelectorAll('svg.chart')].map((s) => s.getBoundingClientRect().height),
      actorText: document.querySelector('#actors tbody')?.textContent ?? '',
    }));
    expect(dom.series.length).toBeGreaterThanOrEqual(2);
    for (const length of dom.series) expect(length).toBeGreaterThan(300);
    expect(dom.novelty).toBeGreaterThan(1000);
    expect(dom.libraryMarks).toBeGreaterThanOrEqual(5);
    expect(dom.tamperMarks).toBeGreaterThanOrEqual(2);
    expect(dom.tamperLanes).toEqual(['"><img src=x onerror=al…', 'reader (pid 5001)']);
    expect(dom.bars).toBeGreaterThan(5);
    expect(dom.newBars).toBeGreaterThan(0); // process_vm_readv, ptrace... never in the baseline
    expect(dom.anomalies).toBeGreaterThan(10);
    expect(dom.bands).toBe(dom.anomalies);
    expect(dom.injected).toBe(0);
    expect(dom.scripts).toBe(2);
    for (const height of dom.svgs) expect(height).toBeGreaterThan(40);
    // The hostile strings are shown as text, exactly.
    expect(dom.actorText).toContain(HOSTILE.actorExe);
    expect(dom.actorText).toContain('\\x1b[31mtrainer');
    expect(await page.textContent('body')).toContain(HOSTILE.libPath);

    // Clicking an anomaly highlights its time range in every chart and names it above them.
    const row = page.locator('tr.anomaly', { hasText: 'opened /proc/4242/mem' });
    const id = await row.getAttribute('data-a');
    await row.locator('td.kind').click();
    expect(await page.locator(`.band.selected[data-a="${id}"]`).count()).toBe(4);
    expect(await page.textContent('#selection')).toContain(`${HOSTILE.readerComm} (pid 5001, /usr/local/bin/reader) opened /proc/4242/mem for writing`);
    // ...and clicking a range selects its row.
    await page.locator('#chart-tampering .band').first().dispatchEvent('click');
    expect(await page.locator('tr.anomaly.selected').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'report-selected.png'), fullPage: false });
    expect(seen.consoleErrors).toEqual([]);
    expect(seen.dialogs).toEqual([]);
    await page.close();
  });

  it('draws a trace without a baseline (charts only)', async () => {
    const out = join(ARTIFACTS, 'report-no-baseline.html');
    const run = runGpo(['report', join(TRACES, 'clean-1.parquet'), '-o', out]);
    expect(run.code, run.stderr).toBe(0);
    const { page, seen } = await openReport(out, 'report-no-baseline.png');
    expect(seen.requests).toHaveLength(1);
    expect(seen.consoleErrors).toEqual([]);
    expect(await page.locator('#chart-rates path.series').count()).toBe(2);
    expect(await page.textContent('#anomalies')).toContain('No baseline given');
    await page.close();
  });

  it('downsamples a large trace instead of refusing it: the page stays small', async () => {
    const path = await largeTrace(join(dir, 'large.parquet'), 1_000_000);
    const out = join(dir, 'large.html');
    const run = runGpo(['report', path, '-o', out], 120_000);
    expect(run.code, run.stderr).toBe(0);
    const page = readFileSync(out, 'utf8');
    expect(page.length).toBeLessThan(400_000);
    const { page: tab, seen } = await openReport(out, 'report-large.png');
    expect(seen.consoleErrors).toEqual([]);
    expect(await tab.locator('#chart-rates path.series').count()).toBe(8);
    expect(await tab.textContent('header')).toContain('1,000,000');
    await tab.close();
  });

  it('fails with one line for a missing trace or baseline', () => {
    for (const args of [
      ['/nonexistent.parquet', '-o', join(dir, 'x.html')],
      [join(TRACES, 'cheat.parquet'), '-b', '/nonexistent.json', '-o', join(dir, 'x.html')],
    ]) {
      const run = runGpo(['report', ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
