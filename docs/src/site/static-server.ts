/**
 * A static file server for the built site, bound to 127.0.0.1 only. It serves exactly
 * what is on disk (no directory listings, no index fallback except `dir/` ->
 * `dir/index.html`), so a link that a browser could not follow on a static host fails here
 * too, with a 404 the site check reports.
 * @module
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';

/** Content types of what TypeDoc writes (and what guides may embed). */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  // Example programs the guides link to.
  '.ts': 'text/plain; charset=utf-8',
};

/** A running server. */
export interface StaticSite {
  /** `http://127.0.0.1:<port>/`. */
  readonly origin: string;
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Where `urlPath` points inside `root` (undefined when it does not decode). Normalizing the
 * path as an absolute one clamps `..` at the site's root, so nothing outside it is reachable.
 */
export function resolveSitePath(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const full = join(root, normalize(`/${decoded}`));
  return decoded.endsWith('/') ? join(full, 'index.html') : full;
}

function listen(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') resolve(false);
      else reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

/**
 * Serves `root` on the first free port of `ports` (inclusive range). Rejects when every port
 * in the range is taken.
 */
export async function serveStaticSite(
  root: string,
  ports: { readonly first: number; readonly last: number },
): Promise<StaticSite> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const file = resolveSitePath(root, url.pathname);
    let size = -1;
    if (file !== undefined) {
      try {
        const stat = statSync(file);
        if (stat.isFile()) size = stat.size;
      } catch {
        // missing: 404 below
      }
    }
    if (file === undefined || size < 0 || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${url.pathname}\n`);
      return;
    }
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': size,
      // Every page loads the same assets; let the browser keep them for the whole check.
      'cache-control': 'max-age=600',
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(file).pipe(response);
  });
  for (let port = ports.first; port <= ports.last; port++) {
    if (await listen(server, port)) {
      return {
        origin: `http://127.0.0.1:${port}/`,
        port,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    }
  }
  throw new Error(`no free port in 127.0.0.1:${ports.first}-${ports.last}`);
}
