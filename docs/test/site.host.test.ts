/**
 * The documentation site in a real browser (Debian's Chromium driven by playwright-core):
 * every page loads without console errors, every internal link and anchor resolves, the
 * search finds API symbols, and screenshots of the landing page and a guide are saved in
 * `docs/screenshots/` for a person to look at before a release.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFreshSite } from '../src/site/site-build.js';
import { checkSite, type SiteCheckResult } from '../src/site/site-check.js';
import { type StaticSite, serveStaticSite } from '../src/site/static-server.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const screenshotsDir = join(repoRoot, 'docs', 'screenshots');

/** Debian's Chromium, installed by `sgv4 lab setup` with the lab's other peers. */
const CHROMIUM = '/usr/bin/chromium';

/** This test's port range (13400-13419 is reserved for the documentation's checks). */
const PORTS = { first: 13400, last: 13419 };

/** The guide photographed for review besides the landing page. */
const GUIDE_FOR_SCREENSHOT = 'documents/What_sgv4_is_and_is_not.html';

/** Symbols the search must find, one per package with an API. */
const SEARCHED_SYMBOLS = ['SgIoV4Header', 'InvalidFieldError', 'openScsiHandle', 'runInLab'];

/**
 * The API reference's per-symbol pages (about a thousand, from a handful of TypeDoc templates):
 * the browser loads one in API_PAGES_SAMPLE of them (and the first of each directory); the rest
 * are read from disk, their links and anchors checked all the same. Guides, the landing page and
 * the module pages are always loaded.
 */
const API_PAGE = /^(classes|interfaces|functions|types|variables|enums)\//;
const API_PAGES_SAMPLE = 10;

let site: StaticSite;
let context: BrowserContext;
let userDataDir: string;
let check: SiteCheckResult;

/** Building and checking take about 40 s on a quiet 2-core machine; far longer when it is busy. */
const SETUP_TIMEOUT_MS = 900_000;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (sgv4 lab setup does, as root)`);
  }
  const build = ensureFreshSite(repoRoot);
  console.log(build.built ? `site built in ${(build.buildMs / 1000).toFixed(1)} s` : 'site was fresh');
  site = await serveStaticSite(build.siteDir, PORTS);
  userDataDir = mkdtempSync(join(tmpdir(), 'sgv4-docs-chromium-'));
  // A fresh profile per run: nothing cached or remembered from an earlier run.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  const start = performance.now();
  let apiPages = 0;
  check = await checkSite({
    root: build.siteDir,
    origin: site.origin,
    context,
    browse: (path) => !API_PAGE.test(path) || apiPages++ % API_PAGES_SAMPLE === 0,
  });
  console.log(
    `${check.pages.length} pages (${check.browsedPages.length} loaded in Chromium, the rest read from disk), ` +
      `${check.internalLinks} internal links checked in ` +
      `${((performance.now() - start) / 1000).toFixed(1)} s`,
  );
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await context?.close(); // closes the browser too: the context owns it
  await site?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('documentation site in Chromium', () => {
  it('loads every page without console errors, page errors or failed requests', () => {
    expect(check.pages).toContain('index.html');
    expect(check.pages).toContain(GUIDE_FOR_SCREENSHOT);
    const loadProblems = check.problems.filter(
      (p) => p.kind !== 'broken-link' && p.kind !== 'missing-anchor',
    );
    expect(loadProblems).toEqual([]);
  });

  it('has no broken internal links and no missing anchors', () => {
    expect(check.internalLinks).toBeGreaterThan(check.pages.length);
    const linkProblems = check.problems.filter(
      (p) => p.kind === 'broken-link' || p.kind === 'missing-anchor',
    );
    expect(linkProblems).toEqual([]);
  });

  it.each(SEARCHED_SYMBOLS)('search finds %s and its page opens', async (symbol) => {
    const page = await context.newPage();
    try {
      await page.goto(new URL('index.html', site.origin).href);
      await page.click('#tsd-search-trigger');
      await page.fill('#tsd-search-input', symbol);
      const first = page.locator('#tsd-search-results li a').first();
      await first.waitFor({ timeout: 10_000 });
      const names = await page.locator('#tsd-search-results li a').allTextContents();
      expect(names.some((n) => n.includes(symbol))).toBe(true);
      await page.locator('#tsd-search-results li a', { hasText: symbol }).first().click();
      await page.waitForLoadState('load');
      await expect(page.locator('h1').first().textContent()).resolves.toContain(symbol);
    } finally {
      await page.close();
    }
  });

  it('the check itself catches each kind of problem (on a small crafted site)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sgv4-docs-crafted-site-'));
    const crafted = await serveStaticSite(root, PORTS);
    try {
      writeFileSync(
        join(root, 'index.html'),
        '<a href="b.html#there">ok</a> <a href="b.html#missing">anchor</a> <a href="nope.html">page</a> ' +
          '<a href="https://example.org/">outside</a> <img src="gone.png" alt=""> ' +
          "<script>console.error('boom')</script>",
      );
      writeFileSync(
        join(root, 'b.html'),
        '<h2 id="there">t</h2><script>throw new Error("uncaught")</script>',
      );
      const result = await checkSite({ root, origin: crafted.origin, context });
      expect(result.pages).toEqual(['b.html', 'index.html']);
      expect(result.externalLinks).toEqual(['https://example.org/']);
      const found = result.problems.map((p) => `${p.kind} ${p.page}: ${p.detail}`);
      expect(found).toEqual(
        expect.arrayContaining([
          'missing-anchor index.html: b.html#missing',
          'broken-link index.html: nope.html does not exist',
          'console-error index.html: boom',
          `http-error index.html: 404 ${crafted.origin}gone.png`,
          'page-error b.html: uncaught',
        ]),
      );
      // Read from disk instead of loaded (b.html, first in its directory, is still loaded): the
      // same links and anchors are checked; only what needs a browser (console, requests) is not.
      const fromDisk = await checkSite({ root, origin: crafted.origin, context, browse: () => false });
      expect(fromDisk.browsedPages).toEqual(['b.html']);
      expect(fromDisk.problems.map((p) => `${p.kind} ${p.page}: ${p.detail}`)).toEqual(
        expect.arrayContaining([
          'missing-anchor index.html: b.html#missing',
          'broken-link index.html: nope.html does not exist',
        ]),
      );
      expect(fromDisk.externalLinks).toEqual(['https://example.org/']);
    } finally {
      await crafted.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('saves screenshots of the landing page and a guide for review', async () => {
    mkdirSync(screenshotsDir, { recursive: true });
    const page = await context.newPage();
    try {
      for (const [path, file] of [
        ['index.html', 'landing.png'],
        [GUIDE_FOR_SCREENSHOT, 'guide.png'],
      ] as const) {
        await page.goto(new URL(path, site.origin).href, { waitUntil: 'load' });
        await page.waitForSelector('#tsd-nav-container a');
        const shot = await page.screenshot({ path: join(screenshotsDir, file), fullPage: true });
        expect(shot.length).toBeGreaterThan(10_000);
      }
    } finally {
      await page.close();
    }
  });
});
