// pageload.mjs measures how long each dashboard page takes until its data is
// shown, in headless Chromium, against a running server:
//
//	node e2e/pageload.mjs http://127.0.0.1:8080 gp_…   [runs]
//
// Each page is loaded `runs` times (default 5) after one warm-up; it prints
// the median and the worst, from navigation start to the page's last data
// element being visible. It is a measurement, not a test: run it against a
// store of the size you care about (e.g. serve --demo --demo-history 1000000).
import { chromium } from 'playwright-core';

const [url, key, runsArg] = process.argv.slice(2);
if (!url || !key) {
  console.error('usage: node e2e/pageload.mjs URL API_KEY [runs]');
  process.exit(2);
}
const runs = Number(runsArg || 5);
const pages = [
  // Places are listed at once; their post counts arrive with one aggregate.
  ['places', '/app/places', ['#place-list li .name', () => ![...document.querySelectorAll('#place-list .posts')].some((e) => e.textContent.startsWith('…'))]],
  ['live feed', '/app/feed', ['.card-post']],
  ['analytics', '/app/analytics', ['#volume-chart svg rect', '#heatmap svg rect.cell', '#hashtags svg text', '#leaderboard table tbody tr', '#authors table tbody tr']],
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url + '/login');
  await page.fill('#key', key);
  await page.click('button[type=submit]');
  await page.waitForURL('**/app/places');
  for (const [name, path, ready] of pages) {
    const times = [];
    for (let i = 0; i <= runs; i++) {
      const t0 = Date.now();
      await page.goto(url + path);
      for (const r of ready) {
        if (typeof r === 'function') await page.waitForFunction(r, null, { timeout: 60_000 });
        else await page.locator(r).first().waitFor({ timeout: 60_000 });
      }
      if (i > 0) times.push(Date.now() - t0); // the first run warms caches
    }
    times.sort((a, b) => a - b);
    console.log(`${name.padEnd(10)} median ${times[Math.floor(times.length / 2)]} ms, worst ${times[times.length - 1]} ms (${runs} loads)`);
  }
} finally {
  await browser.close();
}
