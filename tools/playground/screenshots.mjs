// Types commands into the Microsoft 365 Agents Playground and saves what it renders, at a phone's
// width (400 px) and a desktop's (1280 px), so that cards are looked at as users see them.
// Usage: node screenshots.mjs <playground url> <out dir> "<command>|<command>|..." [width: 1280 or 400]
// A step "click:<label>" presses the last card button with that label (Action.Execute);
// "fill:<label>=<value>" types into the last card input with that label; "select:<label>=<option>"
// picks from a compact choice set and "pick:<title>" an expanded one's option; "chat:<name>" opens that
// chat (the Playground's "Group Chat"); "run:<command>" runs a shell command; in a typed step, "@[Name]" is a mention picked from the list.
import { execSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const [url, out, script, only] = process.argv.slice(2);
const steps = script.split('|');
// The Playground's chat pane has a minimum width of 600 px, so at a phone's width it is cut off on
// the right, cards and all; Teams on a phone gives the chat the screen's width. Lift that minimum so
// the cards are drawn at the width a phone would give them.
async function fitPhone(page) {
  await page.evaluate(() => {
    for (const el of document.querySelectorAll('div')) {
      if (parseFloat(getComputedStyle(el).minWidth) > window.innerWidth) el.style.minWidth = '0px';
    }
    // Each card and what holds it: no wider than the screen, so the card reflows as on a phone.
    for (const card of document.querySelectorAll('.ac-adaptiveCard')) {
      for (let el = card; el && el !== document.body; el = el.parentElement) {
        const box = el.getBoundingClientRect();
        if (box.right <= window.innerWidth) continue;
        el.style.minWidth = '0px';
        el.style.maxWidth = `${Math.max(200, window.innerWidth - Math.max(0, box.left) - 8)}px`;
      }
    }
    // Reflowed cards are taller: show the newest message again, as the chat does.
    for (const el of document.querySelectorAll('div')) {
      const o = getComputedStyle(el).overflowY;
      if ((o === 'auto' || o === 'scroll') && el.scrollHeight > el.clientHeight) el.scrollTop = el.scrollHeight;
    }
  });
  await page.waitForTimeout(300);
}

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
    } else if (step.startsWith('run:')) {
      // A command run beside the chat (gallery.py sends cards the bot would send proactively).
      execSync(step.slice('run:'.length), { stdio: 'inherit' });
    } else if (step.startsWith('select:')) {
      // A compact choice set is a Fluent combobox: open it, then pick the option.
      const [label, value] = step.slice('select:'.length).split('=');
      await page.getByRole('combobox', { name: label }).last().click();
      await page.getByRole('option', { name: value, exact: true }).last().click();
    } else if (step.startsWith('pick:')) {
      // An expanded choice set is radio buttons (or check boxes): pick the one with this title.
      await page.getByRole('radio', { name: step.slice('pick:'.length), exact: true }).last().check({ force: true });
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
    if (width < 800) await fitPhone(page);
    const label = step.startsWith('run:') ? `card-${step.split(' ').pop()}` : step;  // gallery.py <kind>
    const name = `${String(i + 1).padStart(2, '0')}-${label.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 48)}-${width}.png`;
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
