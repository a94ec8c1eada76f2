// Naming a session's device from its User-Agent, for the sessions list.
//
// A User-Agent string is whatever the client chose to send, so this is a
// guide for people ("Chrome on Android"), never a fact to decide on; the
// raw string stays available next to it.

// First match wins: Edge, Opera and Samsung Internet also say Chrome, and
// Chrome also says Safari.
const browsers: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\b(OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/\b(HeadlessChrome|Chrome|Chromium|CriOS)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

// iPadOS 13+ says Macintosh; that is what it wants to be called, so be it.
const systems: [RegExp, string][] = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/**
 * describeDevice names the browser and system a User-Agent claims ("Firefox
 * on Windows"), or the client's own name for other programs ("curl").
 */
export function describeDevice(userAgent: string | null): string {
  const ua = userAgent?.trim() ?? '';
  if (ua === '') return 'Unknown device';
  const browser = browsers.find(([re]) => re.test(ua))?.[1];
  const system = systems.find(([re]) => re.test(ua))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  if (system) return `A browser on ${system}`;
  // Every browser starts with Mozilla/; other programs usually start with
  // their own name ("curl/8.5.0").
  const product = /^[A-Za-z][\w.-]{0,40}/.exec(ua)?.[0];
  if (product === undefined) return 'Unknown device';
  return product === 'Mozilla' ? 'Unknown browser' : product;
}
