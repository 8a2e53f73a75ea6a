// Runs the terraform CLI for the iac tests: providers from the machine's filesystem mirror only
// (never the registry), each module copied into a temp workspace (with its committed lock file, which
// init may read but not change) so no .terraform or state is ever written into the repository, and an
// outer timeout on every command.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../helpers/requirements.js';

export const repoRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

/** The roots one deploys. */
export type ModuleName = 'terraform-backend' | 'terraform-frontend';
/** The child modules the roots call (terraform-modules/), each with its own tests. */
export const CHILD_MODULES = ['terraform-modules/waf-acl'] as const;
/** Any folder terraform runs in: a root or a child module. */
export type ModuleDir = ModuleName | (typeof CHILD_MODULES)[number];

export interface CommandResult {
  command: string;
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface Workspace {
  module: ModuleDir;
  /** The module's copy; terraform runs here. */
  dir: string;
}

export interface TerraformSession {
  terraform: string;
  mirror: string;
  root: string;
  cliConfigFile: string;
  workspaces: Map<ModuleDir, Workspace>;
}


/** A directory laid out as a provider mirror (<host>/hashicorp/aws/<version>/<os_arch>/) that holds the aws provider. */
export function findProviderMirror(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    env.TF_PLUGIN_DIR,
    '/opt/tf-plugins',
    join(homedir(), '.terraform.d', 'plugins'),
    join(homedir(), '.local', 'share', 'terraform', 'plugins'),
    '/usr/local/share/terraform/plugins',
    '/usr/share/terraform/plugins',
  ].filter((dir): dir is string => Boolean(dir));
  return candidates.find((dir) => {
    const versions = join(dir, 'registry.terraform.io', 'hashicorp', 'aws');
    if (!existsSync(versions)) return false;
    return readdirSync(versions).some((version) =>
      readdirSync(join(versions, version), { withFileTypes: true }).some(
        (platform) => platform.isDirectory() && readdirSync(join(versions, version, platform.name)).some((file) => file.startsWith('terraform-provider-aws')),
      ),
    );
  });
}

/** Why terraform cannot run here, or undefined when it can. */
export function terraformUnavailableReason(): string | undefined {
  if (!findExecutable('terraform')) return 'terraform is not on PATH';
  if (!findProviderMirror()) return 'no hashicorp/aws provider mirror found (looked in TF_PLUGIN_DIR, /opt/tf-plugins, ~/.terraform.d/plugins, /usr/share/terraform/plugins)';
  return undefined;
}

/** The environment terraform runs with: no real AWS credentials or profile leak in. */
export function terraformEnv(cliConfigFile: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('TF_')) env[key] = value;
  }
  return {
    ...env,
    TF_CLI_CONFIG_FILE: cliConfigFile,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

/**
 * A temp root with a CLI config that installs providers from the mirror alone (no direct
 * installation, so the registry is never asked) into a plugin cache under the same root, a copy of
 * each module, and the function list they read beside them (platform/functions.json, or `declaration`).
 */
export async function createTerraformSession(modules: ModuleDir[], { declaration }: { declaration?: unknown } = {}): Promise<TerraformSession> {
  const terraform = findExecutable('terraform');
  const mirror = findProviderMirror();
  if (!terraform || !mirror) throw new Error(terraformUnavailableReason());
  const root = await mkdtemp(join(tmpdir(), 'orders-iac-'));
  const pluginCache = join(root, 'plugin-cache');
  await mkdir(pluginCache);
  const cliConfigFile = join(root, 'cli.tfrc');
  await writeFile(
    cliConfigFile,
    [
      `plugin_cache_dir = ${JSON.stringify(pluginCache)}`,
      'provider_installation {',
      '  filesystem_mirror {',
      `    path = ${JSON.stringify(mirror)}`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const workspaces = new Map<ModuleDir, Workspace>();
  const copy = (path: string) => cp(join(repoRoot, path), join(root, path), { recursive: true, filter: (source) => !/(^|\/)(\.terraform|terraform\.tfstate[^/]*)$/.test(source) });
  // The roots' child modules (source = "../terraform-modules/..."), beside them as in the repository.
  await copy('terraform-modules');
  for (const module of modules) {
    if (!module.startsWith('terraform-modules/')) await copy(module);
    workspaces.set(module, { module, dir: join(root, module) });
  }
  await mkdir(join(root, 'platform'));
  if (declaration === undefined) await cp(join(repoRoot, 'platform', 'functions.json'), join(root, 'platform', 'functions.json'));
  else await writeFile(join(root, 'platform', 'functions.json'), JSON.stringify(declaration, null, 2));
  return { terraform, mirror, root, cliConfigFile, workspaces };
}

export async function removeTerraformSession(session: TerraformSession | undefined): Promise<void> {
  if (session) await rm(session.root, { recursive: true, force: true });
}

/** Runs a command in its own process group; on timeout the whole group is killed (SIGTERM, then SIGKILL). */
export function runCommand(
  file: string,
  args: string[],
  { cwd, env, timeoutMs }: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  const started = Date.now();
  const command = `${file} ${args.join(' ')}`;
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(
      () => {
        timedOut = true;
        killGroup('SIGTERM');
        setTimeout(() => killGroup('SIGKILL'), 5_000).unref();
      },
      Math.max(1_000, timeoutMs),
    );
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ command, code: null, stdout, stderr: `${stderr}${error.message}`, timedOut, durationMs: Date.now() - started });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ command, code, stdout, stderr, timedOut, durationMs: Date.now() - started });
    });
  });
}

/** Runs terraform in a module's workspace. Never rejects: check the result (or use `succeeded`). */
export function terraform(
  session: TerraformSession,
  module: ModuleDir,
  args: string[],
  { timeoutMs, env = {} }: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  const workspace = session.workspaces.get(module);
  if (!workspace) throw new Error(`${module} is not in this session`);
  return runCommand(session.terraform, [...args, '-no-color'], { cwd: workspace.dir, env: terraformEnv(session.cliConfigFile, env), timeoutMs });
}

/** `terraform init` for a module: no backend, providers from the mirror, checked against the committed lock file (readonly: a mismatch fails). */
// Terraform's plugin cache is not safe for concurrent installs: two inits filling it at once can fail
// with "mkdir ...: file exists". Inits of one session run one after the other; the second links from the cache.
const initsInProgress = new WeakMap<TerraformSession, Promise<unknown>>();

export function terraformInit(session: TerraformSession, module: ModuleDir, timeoutMs = 120_000): Promise<CommandResult> {
  const previous = initsInProgress.get(session) ?? Promise.resolve();
  const init = previous.then(() => terraform(session, module, ['init', '-backend=false', '-input=false', '-lockfile=readonly'], { timeoutMs }));
  initsInProgress.set(session, init.catch(() => undefined));
  return init;
}

/** Provider settings that keep a plan from calling AWS: the backend has no data source, so a plan needs no account. */
const OFFLINE_PROVIDER = `provider "aws" {
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
`;

/**
 * Terraform's own evaluation of a module with these variables: `terraform plan` with no credentials
 * and no state (an override file keeps the provider from calling AWS), read back with `terraform show
 * -json`. Values known before apply are in `planned_values`; ARNs and the like are not.
 */
export async function offlinePlan(session: TerraformSession, module: ModuleName, vars: Record<string, string>, timeoutMs = 180_000): Promise<TerraformPlan> {
  const workspace = session.workspaces.get(module);
  if (!workspace) throw new Error(`${module} is not in this session`);
  await writeFile(join(workspace.dir, 'offline_override.tf'), OFFLINE_PROVIDER);
  succeeded(await terraformInit(session, module));
  const varArgs = Object.entries(vars).flatMap(([name, value]) => ['-var', `${name}=${value}`]);
  succeeded(await terraform(session, module, ['plan', '-refresh=false', '-lock=false', '-out=offline.tfplan', ...varArgs], { timeoutMs }));
  return JSON.parse(succeeded(await terraform(session, module, ['show', '-json', 'offline.tfplan'], { timeoutMs })).stdout) as TerraformPlan;
}

export interface PlannedResource {
  address: string;
  type: string;
  name: string;
  index?: string | number;
  values: Record<string, unknown>;
}

/** A module's part of planned_values: its resources, and its child modules' (each address in full, module.x[0].type.name). */
interface PlannedModule {
  resources?: PlannedResource[];
  child_modules?: PlannedModule[];
}

export interface TerraformPlan {
  planned_values: { root_module: PlannedModule };
}

/** Every planned resource of the plan, the root module's and every child module's. */
export function allPlanned(plan: TerraformPlan): PlannedResource[] {
  const walk = (module: PlannedModule): PlannedResource[] => [...(module.resources ?? []), ...(module.child_modules ?? []).flatMap(walk)];
  return walk(plan.planned_values.root_module);
}

/** The planned resources of a type (and name), each under its for_each key (or its name when it has none). */
export function plannedOfType(plan: TerraformPlan, type: string, name?: string): Map<string, PlannedResource> {
  const resources = allPlanned(plan).filter((resource) => resource.type === type && (name === undefined || resource.name === name));
  return new Map(resources.map((resource) => [String(resource.index ?? resource.name), resource]));
}

/** The result, or an error that says what ran, how it ended and the end of its output. */
export function succeeded(result: CommandResult): CommandResult {
  if (result.code === 0 && !result.timedOut) return result;
  const tail = (text: string) => text.split('\n').slice(-40).join('\n');
  const ending = result.timedOut ? `timed out after ${Math.round(result.durationMs / 1000)} s` : `exited with ${String(result.code)}`;
  throw new Error(`${result.command} ${ending}\n--- stdout (tail) ---\n${tail(result.stdout)}\n--- stderr (tail) ---\n${tail(result.stderr)}`);
}

// ---------------------------------------------------------------- the rest of a plan's JSON

/**
 * What `terraform show -json` of a plan holds beside planned_values: the root variables as the plan
 * used them, each resource's `after_unknown` (what only apply will know: ARNs, URLs, ids), and the
 * configuration, where Terraform lists what each attribute's expression refers to.
 */
export interface PlanDocument extends TerraformPlan {
  variables: Record<string, { value: unknown }>;
  resource_changes: { address: string; change: { after_unknown?: Record<string, unknown> } }[];
  configuration: { root_module: ConfiguredModule };
}

/** A module as the plan's configuration lists it: its variables, its resource blocks, and the modules it calls. */
interface ConfiguredModule {
  variables?: Record<string, { default?: unknown }>;
  resources?: { address: string; expressions?: Record<string, unknown> }[];
  module_calls?: Record<string, { module: ConfiguredModule }>;
}

/** The module path of an address: `module.api_waf[0].` of module.api_waf[0].aws_wafv2_web_acl.this, '' in the root. */
export function modulePathOf(address: string): string {
  return /^(?:module\.[\w-]+(?:\[[^\]]*\])?\.)*/.exec(address)![0];
}

/** The configuration block of a resource address (any instance), in whichever module declares it. */
export function configuredBlock(plan: TerraformPlan, address: string): { address: string; expressions?: Record<string, unknown> } | undefined {
  let module: ConfiguredModule | undefined = (plan as PlanDocument).configuration.root_module;
  for (const [, call] of modulePathOf(address).matchAll(/module\.([\w-]+)(?:\[[^\]]*\])?\./g)) module = module?.module_calls?.[call!]?.module;
  const block = address.slice(modulePathOf(address).length).replace(/\[[^\]]*\]$/, '');
  return module?.resources?.find((resource) => resource.address === block);
}

/** The value the plan gave a root variable: its default unless the plan set it. */
export function planVariable(plan: TerraformPlan, name: string): unknown {
  return (plan as PlanDocument).variables[name]?.value;
}

/** A root variable's default as the module declares it (override files merged in). */
export function variableDefault(plan: TerraformPlan, name: string): unknown {
  return (plan as PlanDocument).configuration.root_module.variables?.[name]?.default;
}

/** The planned resource at an address such as aws_sqs_queue.orders or aws_lambda_function.this["cart"]. */
export function plannedResource(plan: TerraformPlan, address: string): PlannedResource | undefined {
  return allPlanned(plan).find((resource) => resource.address === address);
}

/** Whether the plan leaves the attribute at this path of a resource (e.g. ['environment', 0, 'variables']) to be known after apply. */
export function knownAfterApply(plan: TerraformPlan, address: string, path: (string | number)[]): boolean {
  let unknown: unknown = (plan as PlanDocument).resource_changes.find((change) => change.address === address)?.change.after_unknown;
  for (const step of path) unknown = (unknown as Record<string | number, unknown> | undefined)?.[step];
  return unknown === true;
}

/**
 * What the expression of an attribute (a path into the resource block, e.g. ['scaling_config', 0,
 * 'maximum_concurrency']) refers to, as Terraform's configuration lists it: `var.x`, `local.y`,
 * `aws_sqs_queue.orders.arn`, `aws_sqs_queue.orders`, ... One list for every instance of the block.
 */
export function expressionReferences(plan: TerraformPlan, address: string, path: (string | number)[]): string[] {
  let expression: unknown = configuredBlock(plan, address)?.expressions;
  for (const step of path) expression = (expression as Record<string | number, unknown> | undefined)?.[step];
  return (expression as { references?: string[] } | undefined)?.references ?? [];
}

/**
 * The planned resources the expression of an attribute refers to: `aws_sqs_queue.orders.arn` is
 * aws_sqs_queue.orders, `aws_lambda_function.this["cart"].arn` that instance. A reference to a whole
 * for_each or count resource names no one instance and is left out, as are variables, locals and
 * each.*; so is a reference through a local (`local.x[each.key]`), which the configuration does not resolve.
 */
export function referencedResources(plan: TerraformPlan, address: string, path: (string | number)[]): PlannedResource[] {
  const found = new Map<string, PlannedResource>();
  for (const reference of expressionReferences(plan, address, path)) {
    const match = /^(?!(?:var|local|each|count|path|data|module|self|terraform)\.)([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(\[(?:\d+|"(?:[^"\\]|\\.)*")\])?/.exec(reference);
    if (!match) continue;
    const [, type, name, index] = match;
    // A reference inside a module names a resource of that module.
    const resource = plannedResource(plan, `${modulePathOf(address)}${type!}.${name!}${index ?? ''}`);
    if (resource) found.set(resource.address, resource);
  }
  return [...found.values()];
}
