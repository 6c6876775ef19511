/**
 * The browser check of the documentation site: load every HTML page the site has on disk in
 * a real Chromium, and report console errors, uncaught page errors, failed requests, links
 * to pages that do not exist and links to anchors (`#fragment`) a page does not have.
 *
 * Links are read from the rendered DOM. TypeDoc builds the sidebar from a compressed index
 * after the page loaded, with the same links on every page except for their relative prefix;
 * waiting for it costs more than the page itself, so it is waited for (and its links checked)
 * on the first page of each directory, which covers every prefix the site uses.
 *
 * A large API reference (a thousand pages from a handful of templates) can be checked with a
 * `browse` filter: the pages it selects are loaded in Chromium, the others are read from disk
 * (their ids and their static links, which is everything but the sidebar the loaded pages of
 * the same directory check), so every link and anchor is still checked while the browser time
 * stays bounded.
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

/** What went wrong, and where. */
export interface SiteProblem {
  /** The page (path relative to the site root) the problem was seen on. */
  readonly page: string;
  readonly kind:
    | 'console-error'
    | 'page-error'
    | 'http-error'
    | 'request-failed'
    | 'load-failed'
    | 'broken-link'
    | 'missing-anchor';
  readonly detail: string;
}

/** The outcome of {@link checkSite}. */
export interface SiteCheckResult {
  /** Every page checked, relative to the site root (`index.html`, `documents/x.html`). */
  readonly pages: readonly string[];
  /** The pages of {@link pages} loaded in the browser (the others were read from disk). */
  readonly browsedPages: readonly string[];
  /** Distinct internal link targets checked (page + fragment). */
  readonly internalLinks: number;
  /** Distinct links that leave the site (not followed: the check runs offline). */
  readonly externalLinks: readonly string[];
  readonly problems: readonly SiteProblem[];
}

/** What one page load found. */
interface PageScan {
  readonly ids: readonly string[];
  readonly links: readonly string[];
}

/** Every `*.html` file under `root`, as URL paths relative to it (`/` separators). */
export function listHtmlPages(root: string): string[] {
  const pages: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.html')) pages.push(relative(root, full).split(sep).join('/'));
    }
  };
  walk(root);
  return pages.sort();
}

/** The page's path relative to the site root, from a same-origin URL (`dir/` -> `dir/index.html`). */
function sitePath(url: URL, origin: string): string {
  const path = decodeURIComponent(url.pathname).slice(new URL(origin).pathname.length);
  return path === '' || path.endsWith('/') ? `${path}index.html` : path;
}

async function scanPage(page: Page, url: string, withNavigation: boolean): Promise<PageScan> {
  await page.goto(url, { waitUntil: 'load' });
  // Pages without the sidebar's container have nothing to wait for.
  if (withNavigation)
    await page.waitForFunction(
      () => {
        const nav = document.getElementById('tsd-nav-container');
        return nav === null || nav.querySelector('a') !== null;
      },
      undefined,
      { timeout: 10_000 },
    );
  return page.evaluate(() => ({
    ids: [
      ...Array.from(document.querySelectorAll('[id]'), (e) => e.id),
      ...Array.from(document.querySelectorAll('a[name]'), (e) => e.getAttribute('name') ?? ''),
    ],
    links: Array.from(document.querySelectorAll('a[href], area[href]'), (a) => (a as HTMLAnchorElement).href),
  }));
}

const HTML_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

/** A page's ids and links as the HTML file has them (no script run), resolved against `url`. */
function scanHtmlFile(file: string, url: string): PageScan {
  const html = readFileSync(file, 'utf8');
  const decodeEntities = (text: string) =>
    text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => HTML_ENTITIES[name] ?? '');
  const ids = [...html.matchAll(/\s(?:id|name)="([^"]*)"/g)].map((m) => decodeEntities(m[1] ?? ''));
  const links = [...html.matchAll(/<(?:a|area)\b[^>]*?\shref="([^"]*)"/g)].map(
    (m) => new URL(decodeEntities(m[1] ?? ''), url).href,
  );
  return { ids, links };
}

/**
 * Loads the pages of the site served at `origin` (whose files are in `root`) in `context`,
 * `concurrency` pages at a time — every page, or those `browse` selects, the others being read
 * from disk — and checks links and anchors across all of them.
 */
export async function checkSite(options: {
  readonly root: string;
  readonly origin: string;
  readonly context: BrowserContext;
  readonly concurrency?: number;
  /** Which pages to load in the browser (default: all). Always loaded: the first page of each directory. */
  readonly browse?: (path: string) => boolean;
}): Promise<SiteCheckResult> {
  const { root, origin, context } = options;
  const pages = listHtmlPages(root);
  const onDisk = new Set(pages);
  const problems: SiteProblem[] = [];
  const idsByPage = new Map<string, Set<string>>();
  /** target page -> fragment -> the first page linking there. */
  const linkTargets = new Map<string, Map<string, string>>();
  const external = new Set<string>();

  const record = (from: string, href: string) => {
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      problems.push({ page: from, kind: 'broken-link', detail: `unparsable href ${href}` });
      return;
    }
    if (url.origin !== new URL(origin).origin) {
      if (url.protocol === 'http:' || url.protocol === 'https:') external.add(url.href);
      return;
    }
    const target = sitePath(url, origin);
    const fragment = url.hash === '' ? '' : decodeURIComponent(url.hash.slice(1));
    const fragments = linkTargets.get(target) ?? new Map<string, string>();
    linkTargets.set(target, fragments);
    if (!fragments.has(fragment)) fragments.set(fragment, from);
  };

  const directories = new Set<string>();
  /** The first page of each directory also has its sidebar checked. */
  const withNavigation = new Set(
    pages.filter((path) => {
      const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      if (directories.has(dir)) return false;
      directories.add(dir);
      return true;
    }),
  );

  const work = async (page: Page, path: string) => {
    const onConsole = (message: { type(): string; text(): string }) => {
      if (message.type() === 'error')
        problems.push({ page: path, kind: 'console-error', detail: message.text() });
    };
    const onPageError = (error: Error) =>
      problems.push({ page: path, kind: 'page-error', detail: error.message });
    const onResponse = (response: { status(): number; url(): string }) => {
      if (response.status() >= 400)
        problems.push({ page: path, kind: 'http-error', detail: `${response.status()} ${response.url()}` });
    };
    const onRequestFailed = (request: { url(): string; failure(): { errorText: string } | null }) =>
      problems.push({
        page: path,
        kind: 'request-failed',
        detail: `${request.url()}: ${request.failure()?.errorText ?? 'failed'}`,
      });
    page.on('console', onConsole);
    page.on('pageerror', onPageError);
    page.on('response', onResponse);
    page.on('requestfailed', onRequestFailed);
    try {
      const url = new URL(path.split('/').map(encodeURIComponent).join('/'), origin).href;
      const scan = await scanPage(page, url, withNavigation.has(path));
      idsByPage.set(path, new Set(scan.ids));
      for (const href of scan.links) record(path, href);
    } catch (error) {
      problems.push({
        page: path,
        kind: 'load-failed',
        detail: error instanceof Error ? error.message : String(error),
      });
    } finally {
      page.off('console', onConsole);
      page.off('pageerror', onPageError);
      page.off('response', onResponse);
      page.off('requestfailed', onRequestFailed);
    }
  };

  const browsed = pages.filter((path) => withNavigation.has(path) || (options.browse?.(path) ?? true));
  const browsedSet = new Set(browsed);
  for (const path of pages) {
    if (browsedSet.has(path)) continue;
    const url = new URL(path.split('/').map(encodeURIComponent).join('/'), origin).href;
    const scan = scanHtmlFile(join(root, ...path.split('/')), url);
    idsByPage.set(path, new Set(scan.ids));
    for (const href of scan.links) record(path, href);
  }
  const queue = [...browsed];
  const workers = Array.from({ length: options.concurrency ?? 3 }, async () => {
    const page = await context.newPage();
    try {
      for (let path = queue.shift(); path !== undefined; path = queue.shift()) await work(page, path);
    } finally {
      await page.close();
    }
  });
  await Promise.all(workers);

  let internalLinks = 0;
  for (const [target, fragments] of linkTargets) {
    for (const [fragment, from] of fragments) {
      internalLinks++;
      if (!onDisk.has(target)) {
        // A link to something other than a page (an image, a downloadable file) must exist.
        if (target.endsWith('.html') || !existsSync(join(root, target)))
          problems.push({ page: from, kind: 'broken-link', detail: `${target} does not exist` });
        continue;
      }
      const ids = idsByPage.get(target);
      if (fragment !== '' && ids !== undefined && !ids.has(fragment))
        problems.push({ page: from, kind: 'missing-anchor', detail: `${target}#${fragment}` });
    }
  }
  return { pages, browsedPages: browsed, internalLinks, externalLinks: [...external].sort(), problems };
}
