/**
 * Driving the Temporal Web UI (2.42) the way an operator does, in Debian's Chromium through playwright-core:
 * the workflow list with a query, a batch's page and its tabs, the Send a Signal dialog, Request
 * Cancellation. Facts about the UI that these helpers rely on: the menu item and the dialog title are both
 * "Send a Signal" (the item is looked up in the menu); the dialog's data editor re-formats on blur and moves
 * Submit (it is blurred before Submit is clicked); a workflow URL with a trailing slash shows "Not found";
 * summary, details and current details are markdown rendered in iframes (`/render?content=…`).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { findChromium } from '../../stack/chromium';

/** Where the browser tests save their screenshots (the README's come from here). */
export const SCREENSHOTS = path.resolve('.test-output', 'web-ui');

/**
 * Debian's Chromium from PATH (`npm test` installs it when missing). Missing, launching is an error that says
 * how to install it: the machine cannot download a browser, and a browser test that skipped itself would
 * pass without testing anything.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await findChromium();
  if (!executablePath) {
    throw new Error("Debian's Chromium is not on PATH: install it with `apt-get install -y chromium`");
  }
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** The Web UI of the stack `npm test` started (scripts/test.ts passes it). */
export function webUiBase(): string {
  const base = process.env.SHIPBATCH_TEST_WEB_UI;
  if (!base) {
    throw new Error(
      'SHIPBATCH_TEST_WEB_UI is not set: run the browser tests through `npm test`, which starts the dev server with its Web UI',
    );
  }
  return base;
}

export class WebUi {
  constructor(
    readonly page: Page,
    readonly base: string,
    readonly namespace: string,
  ) {}

  async screenshot(name: string): Promise<string> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** The workflow list filtered by a visibility query, reloaded until `visible(ids shown)` holds. */
  async listUntil(query: string, visible: (ids: string[]) => boolean, timeoutMs = 30_000): Promise<string[]> {
    const url = `${this.base}/namespaces/${encodeURIComponent(this.namespace)}/workflows?query=${encodeURIComponent(query)}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.page.goto(url);
      // The table or the empty state, whichever the UI shows once it has asked the server.
      await this.page
        .locator('table tbody tr, :text("No Workflows running")')
        .first()
        .waitFor({ timeout: 15_000 })
        .catch(() => undefined);
      const hrefs = await this.page
        .locator('table tbody tr a[href*="/workflows/batch-"]')
        .evaluateAll((links) => links.map((a) => String((a as unknown as { href: string }).href)));
      // …/namespaces/<ns>/workflows/<id>[/<run>…]
      const ids = [...new Set(hrefs.map((h) => decodeURIComponent(new URL(h).pathname.split('/')[4] ?? '')))];
      if (visible(ids) || Date.now() > deadline) return ids;
      await this.page.waitForTimeout(1000);
    }
  }

  /** A batch's page (no trailing slash: the UI answers "Not found" to one). */
  async openBatch(batchId: string): Promise<void> {
    await this.page.goto(
      `${this.base}/namespaces/${encodeURIComponent(this.namespace)}/workflows/${encodeURIComponent(batchId)}`,
    );
    await this.page.getByRole('heading', { name: batchId }).first().waitFor();
  }

  async openTab(name: 'User Metadata' | 'Queries' | 'History'): Promise<void> {
    await this.page.getByText(name, { exact: true }).first().click();
  }

  /** The rendered markdown frames of the User Metadata tab: summary, details, current details. */
  private async renderFrame(which: (content: string) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const frame of this.page.frames()) {
        const url = new URL(frame.url(), this.base);
        if (url.pathname !== '/render') continue;
        if (which(url.searchParams.get('content') ?? '')) return frame;
      }
      if (Date.now() > deadline) throw new Error('no rendered markdown frame of that kind on the page');
      await this.page.waitForTimeout(250);
    }
  }

  /** The text of the batch's summary, details and current details as the page renders them. */
  async userMetadata(): Promise<{ summary: string; details: string; currentDetails: string }> {
    await this.openTab('User Metadata');
    const text = async (which: (content: string) => boolean) =>
      (await this.renderFrame(which)).locator('body').innerText();
    return {
      summary: await text((c) => c.startsWith('Batch ')),
      details: await text((c) => c.startsWith('**Source**')),
      currentDetails: await text((c) => / · mode /.test(c)),
    };
  }

  /** Press R (the page's refresh key) until the current details match. */
  async currentDetailsUntil(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = (await this.userMetadata()).currentDetails;
      if (pattern.test(last) || Date.now() > deadline) return last;
      await this.page.reload();
      await this.page.waitForTimeout(500);
    }
  }

  /** Run a query from the Queries tab; the answer as the page shows it (JSON). */
  async runQuery(name: string): Promise<unknown> {
    await this.openTab('Queries');
    const main = this.page.locator('main');
    await main
      .getByRole('button', { name: /Query Type|status|preview/ })
      .first()
      .click();
    await this.page.getByRole('option', { name }).first().click();
    await main.getByRole('button', { name: 'Run Query' }).click();
    const result = main.locator('.cm-content').last();
    await result.filter({ hasText: '{' }).waitFor();
    return JSON.parse(await result.innerText()) as unknown;
  }

  /** More Actions → Send a Signal → pick `name`, type `payload` → Submit, as an operator does. */
  async sendSignal(name: string, payload: string): Promise<void> {
    await this.page.getByRole('button', { name: 'More Actions' }).click();
    await this.page.getByRole('menuitem', { name: 'Send a Signal' }).click();
    const dialog = this.page.getByRole('dialog').filter({ hasText: 'Signal name' });
    await dialog.getByTestId('signal-select-button').click();
    await dialog
      .getByRole('option')
      .filter({ has: this.page.locator('span', { hasText: new RegExp(`^${name}$`) }) })
      .click();
    const editor = dialog.locator('.cm-content').first();
    await editor.click();
    await editor.fill(payload);
    // The editor re-formats its JSON on blur, which moves Submit: blur it first.
    await editor.evaluate((el) => (el as unknown as { blur(): void }).blur());
    const typed: unknown = JSON.parse(await editor.innerText());
    if (JSON.stringify(typed) !== JSON.stringify(JSON.parse(payload))) {
      throw new Error(`the signal editor holds ${JSON.stringify(typed)}, not ${payload}`);
    }
    await dialog.getByTestId('confirm-modal-button').click();
    await dialog.waitFor({ state: 'hidden' });
  }

  /** The page's Request Cancellation button and its confirmation. */
  async requestCancellation(): Promise<void> {
    await this.page.getByRole('button', { name: 'Request Cancellation' }).click();
    const dialog = this.page.getByRole('dialog').filter({ hasText: /cancel/i });
    await dialog.getByTestId('confirm-modal-button').click();
    await dialog.waitFor({ state: 'hidden' });
  }
}

/** The JSON payload right after "`name` with" in the current details as rendered (compact JSON: no spaces). */
export function payloadIn(details: string, name: string): string {
  const m = new RegExp(`\\b${name} with\\s+(\\{\\S*\\})`).exec(details);
  if (!m) throw new Error(`no ${name} payload in the current details: ${details}`);
  return m[1]!;
}
