import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { functionNames, functions } from '../../platform/functions.js';

const root = new URL('../../', import.meta.url).pathname;

/**
 * "Metric (function)" for every business metric a function counts (`count(metrics, 'Name')` in its
 * folder), read from the code, so a metric counted but missing from a dashboard fails its test.
 */
export function countedBusinessMetrics(): string[] {
  const counted = functionNames.flatMap((name) => {
    const folder = join(root, dirname(functions[name].entry));
    return readdirSync(folder)
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) => [...readFileSync(join(folder, file), 'utf8').matchAll(/\bcount\(metrics, '(\w+)'\)/g)].map((match) => `${match[1]} (${name})`));
  });
  return [...new Set(counted)].sort();
}

/** The same "Metric (function)" for each metric of the namespace on a dashboard's widgets. */
export function dashboardBusinessMetrics(body: string, namespace: string): string[] {
  const { widgets } = JSON.parse(body) as { widgets: { properties: { metrics?: unknown[][] } }[] };
  return widgets
    .flatMap((widget) => widget.properties.metrics ?? [])
    .filter((metric) => metric[0] === namespace && metric[2] === 'service')
    .map((metric) => `${String(metric[1])} (${String(metric[3])})`)
    .sort();
}
