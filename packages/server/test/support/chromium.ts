import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (DESIGN.md, "Real parts"): never a downloaded browser build. */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags every browser suite runs with: headless, and nothing that reaches the network on its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
