import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

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
