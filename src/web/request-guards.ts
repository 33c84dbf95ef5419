/**
 * The web server's request guards, pure functions of a request's parts: the access token (carried in
 * the path, compared in constant time), the Host header (DNS rebinding), the static file a URL path
 * names (no traversal), and the page's CSP. Split out of src/web/server.ts, which re-exports them.
 */
import { timingSafeEqual } from 'node:crypto'
import path from 'node:path'
import { contentSecurityPolicy } from '../shared/csp.ts'

/** Path prefix of the page: `/s/<token>/`. */
export const TOKEN_PATH_PREFIX = '/s/'

/** Host names this server answers to besides the one it binds. */
export const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'] as const

/** The renderer's CSP with `connect-src` opened to `wsOrigin`. */
export function webContentSecurityPolicy(wsOrigin: string): string {
  return contentSecurityPolicy({ connect: [wsOrigin] })
}

/** Whether `given` is the token (constant-time comparison). */
export function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** `[::1]` for an IPv6 address, the name itself otherwise. */
export function hostName(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/**
 * Whether a Host header names this server: one of the loopback names or the bound host, with this port.
 * @example isAllowedHost('127.0.0.1:8080', '127.0.0.1', 8080) // true; isAllowedHost('evil.example:8080', …) // false
 */
export function isAllowedHost(header: string | undefined, boundHost: string, port: number): boolean {
  if (!header) return false
  const names = new Set<string>([...LOOPBACK_NAMES, hostName(boundHost)])
  return [...names].some((n) => header.toLowerCase() === `${n.toLowerCase()}:${port}`)
}

/**
 * The token a request path carries and the rest of the path: `/s/<token>/rest` -> {token, rest: '/rest'}.
 */
export function splitTokenPath(pathname: string): { token: string; rest: string } | null {
  if (!pathname.startsWith(TOKEN_PATH_PREFIX)) return null
  const after = pathname.slice(TOKEN_PATH_PREFIX.length)
  const slash = after.indexOf('/')
  return slash < 0 ? { token: after, rest: '' } : { token: after.slice(0, slash), rest: after.slice(slash) }
}

/**
 * The file under `root` a URL path names, or null when it is malformed, has a '..' segment or a
 * backslash, or would leave `root`.
 * '/' is index.html.
 */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null
  if (decoded.split('/').includes('..')) return null
  if (decoded === '/' || decoded === '') decoded = '/index.html'
  const base = path.resolve(root)
  const file = path.resolve(base, '.' + path.posix.normalize(decoded))
  if (!file.startsWith(base + path.sep)) return null
  return file
}
