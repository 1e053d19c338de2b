// Opens one crmlens report in headless Chromium and checks it: the page loads without
// console errors, page errors or network requests (the file must be self-contained), and
// every chart (<figure> with an inline <svg>) has ink: non-white pixels in its own
// screenshot. Prints one JSON object; exit code 1 when a check fails.
//
//   node .ci/browser/check.mjs REPORT.html [SCREENSHOT.png]
//
// Chromium: $CHROMIUM or /usr/bin/chromium (Debian's package `chromium`).
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [html, screenshot] = process.argv.slice(2);
if (!html) {
  console.error("usage: node check.mjs REPORT.html [SCREENSHOT.png]");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const errors = [];
const requests = [];
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url()); });
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
  const url = pathToFileURL(html).href;
  const response = await page.goto(url, { waitUntil: "load" });
  if (!response || !response.ok()) errors.push(`load: ${response ? response.status() : "no response"}`);
  const figures = await page.$$("figure");
  const charts = [];
  for (const f of figures) {
    const title = await f.getAttribute("aria-label");
    const box = await f.boundingBox();
    const png = await f.screenshot();
    // Count non-white pixels by decoding the screenshot in the page itself.
    const inked = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = "data:image/png;base64," + b64;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width; c.height = img.height;
      const ctx = c.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) n++;
      return n;
    }, png.toString("base64"));
    charts.push({ title, width: box ? Math.round(box.width) : 0, height: box ? Math.round(box.height) : 0, inked });
  }
  const title = await page.title();
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  const blank = charts.filter((c) => c.inked < 500 || c.width < 100);
  const ok = errors.length === 0 && requests.length === 0 && blank.length === 0 && charts.length > 0;
  console.log(JSON.stringify({ html, title, ok, errors, requests, charts }));
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
}
