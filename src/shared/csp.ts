/**
 * The renderer's Content-Security-Policy, one definition for the Electron window (header + <meta>) and
 * the web mode's server. Pure: no imports.
 */

/**
 * The Content-Security-Policy of the renderer: only the app's own scripts, styles and
 * connections, images also from data:/blob: URLs (generated visualizations), nothing else.
 * @param dev the Vite dev server injects component styles as <style> elements, which needs
 *   'unsafe-inline' styles; never set in a built app.
 * @param forMeta leave out `frame-ancestors`, which browsers ignore (and warn about) in a <meta>.
 * @param connect further origins the page may connect to (web mode: its WebSocket origin).
 */
export function contentSecurityPolicy({ dev = false, forMeta = false, connect = [] }: {
  dev?: boolean; forMeta?: boolean; connect?: string[]
} = {}): string {
  const directives: [string, string][] = [
    ['default-src', "'none'"],
    ['script-src', "'self'"],
    ['style-src', dev ? "'self' 'unsafe-inline'" : "'self'"],
    ['img-src', "'self' data: blob:"],
    ['font-src', "'self'"],
    ['connect-src', ["'self'", ...connect].join(' ')],
    ['base-uri', "'none'"],
    ['form-action', "'none'"],
    ['object-src', "'none'"],
  ]
  if (!forMeta) directives.push(['frame-ancestors', "'none'"])
  return directives.map(([name, value]) => `${name} ${value}`).join('; ')
}
