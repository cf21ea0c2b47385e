import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';

/** The console's files (plain HTML, JS and CSS, no build step) live in apps/admin/console of the checkout or image. */
export function consoleDir(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'apps', 'admin', 'console');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) throw new Error('apps/admin/console/index.html was not found above ' + from);
  }
}

const FILES: Record<string, { file: string; type: string }> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

/**
 * Express middleware mounted at /console: serves the three files (read once),
 * with a strict content security policy (scripts and styles from this origin
 * only, WebSocket to this origin: CSP 3's 'self' covers ws:/wss: to the same host and port, which is all the page
 * opens). Anything else under /console is a 404.
 */
export function consoleStatic(dir = consoleDir()) {
  const cache = new Map<string, Buffer>();
  const read = (file: string) => {
    let b = cache.get(file);
    if (!b) cache.set(file, (b = readFileSync(join(dir, file))));
    return b;
  };
  return (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    // The full path (Express strips the mount point from req.url and req.path).
    const path = (req.originalUrl ?? req.url ?? '').split('?', 1)[0]!.replace(/^\/console/, '');
    const f = FILES[path];
    if (!f) return next();
    const body = read(f.file);
    res.statusCode = 200;
    res.setHeader('content-type', f.type);
    res.setHeader('content-length', body.length);
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader(
      'content-security-policy',
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
