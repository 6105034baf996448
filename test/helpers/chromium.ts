import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.OPSDECK_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium for the browser tests. `mapHosts` names resolve to 127.0.0.1 inside the
 * browser only (`--host-resolver-rules`): a page can have a non-localhost origin (which browsers
 * do not exempt from `upgrade-insecure-requests`) while every packet stays on loopback and
 * nothing asks the machine's DNS.
 */
export function launchChromium(mapHosts: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(mapHosts.length > 0 ? [`--host-resolver-rules=${mapHosts.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}, EXCLUDE localhost`] : []),
    ],
  });
}
