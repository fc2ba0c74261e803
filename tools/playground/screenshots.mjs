// Types commands into the Microsoft 365 Agents Playground and saves what it renders, at a phone's
// width (400 px) and a desktop's (1280 px), so that cards are looked at as users see them.
// Usage: node screenshots.mjs <playground url> <out dir> "<command>|<command>|..." [width: 1280 or 400]
// A step "click:<label>" presses the last card button with that label (Action.Execute);
// "fill:<label>=<value>" types into the last card input with that label; "chat:<name>" opens that
// chat (the Playground's "Group Chat"); in a typed step, "@[Name]" is a mention picked from the list.
import { chromium } from 'playwright-core';

const [url, out, script, only] = process.argv.slice(2);
const steps = script.split('|');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
let failed = false;
const sizes = [[1280, 1000], [400, 860]].filter(([w]) => !only || String(w) === only);
for (const [width, height] of sizes) {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(url, { waitUntil: 'networkidle' });
  await page.waitForTimeout(2000);
  // The Playground's log panel covers a phone-width chat: close it (its log is still read below).
  const panel = page.getByText('Log Panel', { exact: true });
  if (width < 800 && await panel.count()) {
    await panel.locator('xpath=..').getByRole('button').last().click({ force: true }).catch(() => {});
  }
  for (const [i, step] of steps.entries()) {
    if (step.startsWith('fill:')) {
      const [label, value] = step.slice('fill:'.length).split('=');
      await page.getByLabel(label).last().fill(value);
    } else if (step.startsWith('click:')) {
      const label = step.slice('click:'.length);
      await page.getByRole('button', { name: label }).last().click({ force: true });
    } else if (step.startsWith('chat:')) {
      // At a phone's width the chat list is off screen: the click is dispatched to it directly.
      await page.getByText(step.slice('chat:'.length), { exact: true }).dispatchEvent('click');
    } else {
      await page.locator('[role="textbox"][contenteditable="true"]').first().focus();
      for (const part of step.split(/(@\[[^\]]+\])/)) {
        if (!part.startsWith('@[')) { await page.keyboard.type(part); continue; }
        const name = part.slice(2, -1);
        await page.keyboard.type('@' + name.split(' ')[0]);
        await page.waitForTimeout(800);
        await page.getByText(name, { exact: true }).last().click();
      }
      await page.keyboard.press('Enter');
    }
    await page.waitForTimeout(3000);
    const name = `${String(i + 1).padStart(2, '0')}-${step.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)}-${width}.png`;
    await page.screenshot({ path: `${out}/${name}` });
  }
  const log = await page.locator('body').innerText();
  // The Playground's log panel lists every exchange with its HTTP status: a 4xx/5xx is a failure.
  const bad = log.match(/(message|invoke|conversationUpdate|installationUpdate) [45]\d\d/g);
  if (bad) { console.error(`${width}px: ${bad.join(', ')}`); failed = true; }
  await page.close();
}
await browser.close();
process.exit(failed ? 1 : 0);
