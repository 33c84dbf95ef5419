/**
 * Debian's Chromium for the browser tests, through playwright-core (which never downloads a browser):
 * where it is, whether it is there, and one launch with the flags every test uses (headless, no
 * sandbox as root, no GPU, nothing phoning home), plus a test's own flags (e.g. a fake camera).
 * Shape: `hasChromium`; `await launchChromium(extraArgs?) => Browser`
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'] as const

export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] })
}
