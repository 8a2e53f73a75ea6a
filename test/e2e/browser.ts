import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { LocalStack } from '../../local/stack.js';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];

/** Why the browser tests cannot run here, when findChromium finds nothing. */
export const chromiumMissing = `no Chromium at ${CANDIDATES.join(' or ')} (apt-get install -y chromium; .ci/run does)`;

/** Debian's Chromium, or undefined (the browser tests then skip, or fail under CI=true). */
export function findChromium(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

export function launch(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const root = new URL('../..', import.meta.url).pathname;
const artifacts = join(root, 'test-artifacts', 'screenshots');
const docs = join(root, 'docs');

/** Saves a screenshot as a test artifact, and under docs/ too when UPDATE_DOCS_SCREENSHOTS=1 and `docsName` is given. */
export async function screenshot(page: Page, name: string, docsName?: string): Promise<void> {
  await mkdir(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  if (docsName && process.env.UPDATE_DOCS_SCREENSHOTS === '1') {
    await mkdir(docs, { recursive: true });
    await page.screenshot({ path: join(docs, `${docsName}.png`), fullPage: true });
  }
}

let axeSource: string | undefined;
/** axe-core's serious and critical violations on the page (its context must bypass CSP to inject axe). */
export async function seriousViolations(page: Page): Promise<{ id: string; impact: string; help: string; targets: string[] }[]> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, targets: violation.nodes.map((node) => node.target.join(' ')) }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/**
 * A stack and a browser for the tests of one describe block (call it inside the block, so a skipped
 * block starts neither): started before them, closed after them with every context its pages opened.
 */
export function browserSession(startStack: () => Promise<LocalStack>) {
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    stack = await startStack();
    browser = await launch(findChromium()!);
  }, 60_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stack?.stop();
  });
  /** A context of its own, 1280 x 900 unless `options` say otherwise. */
  const newContext = async (options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, ...options });
    contexts.push(context);
    return context;
  };
  return { newContext, newPage: async (options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> => (await newContext(options)).newPage() };
}

/** Signs `customer` in through the sign-in page, and waits for the signed-in header. */
export async function signInOnPage(page: Page, webUrl: string, customer: { email: string; password: string }): Promise<void> {
  await page.goto(`${webUrl}/sign-in`);
  await page.fill('#email', customer.email);
  await page.fill('#password', customer.password);
  await page.click('#sign-in-submit');
  await page.waitForSelector('#signed-in-as');
}

/** Waits (10 s at most) until the element holds `text`; else fails naming what it shows. */
export async function expectText(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction(({ selector, text }) => document.querySelector(selector)?.textContent?.includes(text) ?? false, { selector, text }, { timeout: 10_000 }).catch(async () => {
    throw new Error(`"${selector}" never showed "${text}"; it shows "${(await page.textContent(selector).catch(() => null)) ?? '(nothing)'}"`);
  });
}
