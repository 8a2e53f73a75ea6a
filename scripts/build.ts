// Builds what Terraform and CloudFormation deploy: one zip per Lambda under dist/lambdas/.
import { build } from 'esbuild';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ZipFile } from 'yazl';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'dist', 'lambdas');
export const LAMBDAS = ['submit-order', 'process-order', 'get-order'] as const;
// A fixed time in every zip entry, so the same code gives the same zip and Terraform's source_code_hash is stable.
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

async function zip(files: { path: string; name: string }[], target: string): Promise<void> {
  const archive = new ZipFile();
  for (const file of files) archive.addBuffer(await readFile(file.path), file.name, { mtime: FIXED_MTIME, mode: 0o100644 });
  archive.end();
  await new Promise<void>((resolve, reject) => {
    archive.outputStream.pipe(createWriteStream(target)).on('close', resolve).on('error', reject);
  });
}

async function buildLambda(name: (typeof LAMBDAS)[number]): Promise<{ name: string; bytes: number }> {
  const dir = join(outDir, name);
  await build({
    entryPoints: [join(root, 'backend-lambdas', name, 'handler.ts')],
    outfile: join(dir, 'index.mjs'),
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // CommonJS parts of the SDK call require(); an ESM bundle has none unless it is made.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
  });
  const target = join(outDir, `${name}.zip`);
  await zip([{ path: join(dir, 'index.mjs'), name: 'index.mjs' }], target);
  return { name, bytes: (await stat(target)).size };
}

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
for (const { name, bytes } of await Promise.all(LAMBDAS.map(buildLambda))) {
  console.log(`dist/lambdas/${name}.zip  ${(bytes / 1024).toFixed(0)} KiB`);
}
