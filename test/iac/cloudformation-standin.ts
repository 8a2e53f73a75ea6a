// A stand-in CloudFormation endpoint for running the deploy guide's `aws` commands as written, with
// S3 passed through to moto (which uploads and serves the packaged templates and the artifact). moto's
// own CloudFormation cannot be the stand-in: it creates no Cognito pool, alarm or API stage, and it
// takes any parameter, capability or template size without a word. This one creates nothing either;
// it answers the calls `aws cloudformation deploy` and `describe-stacks` make, and refuses a request
// the way CloudFormation would before creating anything: a template body over 51,200 bytes or a
// template object over 1 MB, more than 500 resources, a parameter the template does not declare, a
// required one left out, a value outside its AllowedValues, AllowedPattern, length or range, or a
// missing CAPABILITY_IAM / CAPABILITY_NAMED_IAM. Each executed change set completes at once; a stack's
// outputs are the template's own Outputs keys with the values the test gives (a deployment's stand-ins).
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { yamlParse } from 'yaml-cfn';
import { MOTO_CREDENTIALS } from './moto.js';

/** CloudFormation's quotas on what a request may carry (AWS CloudFormation User Guide, "Quotas"). */
export const CLOUDFORMATION_LIMITS = { templateBodyBytes: 51_200, templateObjectBytes: 1_048_576, resources: 500, parameters: 200, outputs: 200 };

interface TemplateParameter {
  Type?: string;
  Default?: unknown;
  AllowedValues?: unknown[];
  AllowedPattern?: string;
  MinLength?: number;
  MaxLength?: number;
  MinValue?: number;
  MaxValue?: number;
}

interface Template {
  Parameters?: Record<string, TemplateParameter>;
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, unknown>;
}

/** A change set as the stand-in accepted it. */
export interface AcceptedChangeSet {
  stack: string;
  type: 'CREATE' | 'UPDATE';
  /** How the template came: in the request body, or as an S3 object's URL. */
  via: 'TemplateBody' | 'TemplateURL';
  templateBytes: number;
  /** Every parameter's value as the stack would hold it, defaults included. */
  parameters: Record<string, string>;
  capabilities: string[];
}

export interface CloudFormationStandIn {
  endpoint: string;
  /** Every change set accepted, in order. */
  accepted: AcceptedChangeSet[];
  /** Every request refused, with CloudFormation's reason. */
  refused: string[];
  close(): Promise<void>;
}

class ValidationError extends Error {}

const IAM_NAMED: Record<string, string> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Group': 'GroupName',
};
const IAM_TYPES = new Set([...Object.keys(IAM_NAMED), 'AWS::IAM::Policy', 'AWS::IAM::AccessKey', 'AWS::IAM::UserToGroupAddition']);

/** The capability a template needs before CloudFormation creates its IAM resources, if any. */
export function requiredCapability(template: Template): string | undefined {
  const iam = Object.values(template.Resources ?? {}).filter((resource) => IAM_TYPES.has(resource.Type));
  if (iam.some((resource) => IAM_NAMED[resource.Type] && resource.Properties?.[IAM_NAMED[resource.Type]!] !== undefined)) return 'CAPABILITY_NAMED_IAM';
  return iam.length > 0 ? 'CAPABILITY_IAM' : undefined;
}

/** A parameter's default as the string CloudFormation holds (YAML may have read `30` or `true`). */
const defaultOf = (parameter: TemplateParameter) => (typeof parameter.Default === 'string' ? parameter.Default : JSON.stringify(parameter.Default));

/** CloudFormation's checks of a parameter value against its declaration. */
function checkValue(name: string, declared: TemplateParameter, value: string): void {
  const values = declared.Type?.startsWith('List<') || declared.Type === 'CommaDelimitedList' ? value.split(',') : [value];
  for (const item of values) {
    if (declared.AllowedValues && !declared.AllowedValues.map(String).includes(item)) throw new ValidationError(`Parameter '${name}' must be one of AllowedValues`);
    if (declared.AllowedPattern !== undefined && !new RegExp(`^(?:${declared.AllowedPattern})$`).test(item)) throw new ValidationError(`Parameter '${name}' must match pattern ${declared.AllowedPattern}`);
    if (declared.MinLength !== undefined && item.length < Number(declared.MinLength)) throw new ValidationError(`Parameter '${name}' must contain at least ${declared.MinLength} characters`);
    if (declared.MaxLength !== undefined && item.length > Number(declared.MaxLength)) throw new ValidationError(`Parameter '${name}' must contain at most ${declared.MaxLength} characters`);
    if (declared.Type === 'Number') {
      if (item.trim() === '' || Number.isNaN(Number(item))) throw new ValidationError(`Parameter '${name}' must be a number`);
      if (declared.MinValue !== undefined && Number(item) < Number(declared.MinValue)) throw new ValidationError(`Parameter '${name}' must be a number not less than ${declared.MinValue}`);
      if (declared.MaxValue !== undefined && Number(item) > Number(declared.MaxValue)) throw new ValidationError(`Parameter '${name}' must be a number not greater than ${declared.MaxValue}`);
    }
  }
}

/** The members of a query-protocol list, `Name.member.1.Field=...`, as objects. */
function members(query: URLSearchParams, name: string): Record<string, string>[] {
  const found = new Map<number, Record<string, string>>();
  for (const [key, value] of query) {
    const match = new RegExp(`^${name}\\.member\\.(\\d+)(?:\\.(\\w+))?$`).exec(key);
    if (!match) continue;
    const entry = found.get(Number(match[1])) ?? {};
    entry[match[2] ?? ''] = value;
    found.set(Number(match[1]), entry);
  }
  return [...found.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry);
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

function answer(res: ServerResponse, action: string, result: string): void {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(`<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata></${action}Response>`);
}

function refuse(res: ServerResponse, message: string): void {
  res.writeHead(400, { 'content-type': 'text/xml' });
  res.end(`<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>${xml(message)}</Message></Error><RequestId>standin</RequestId></ErrorResponse>`);
}

const body = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

interface Stack {
  id: string;
  template: Template;
  parameters: Record<string, string>;
  status: string;
  pending?: { id: string; name: string; type: 'CREATE' | 'UPDATE'; template: Template; parameters: Record<string, string> };
}

/**
 * Starts the stand-in on 127.0.0.1. `moto` is where S3 goes; `outputs` gives each output key the value a
 * deployment would (an output the template declares but `outputs` does not name reads `standin-<key>`).
 */
export async function startCloudFormationStandIn({ moto, outputs }: { moto: string; outputs: Record<string, string> }): Promise<CloudFormationStandIn> {
  const stacks = new Map<string, Stack>();
  const accepted: AcceptedChangeSet[] = [];
  const refused: string[] = [];
  const motoUrl = new URL(moto);
  const s3 = new S3Client({ endpoint: moto, region: 'us-east-1', forcePathStyle: true, credentials: MOTO_CREDENTIALS });

  async function templateOf(query: URLSearchParams): Promise<{ text: string; via: AcceptedChangeSet['via'] }> {
    const bodyText = query.get('TemplateBody');
    if (bodyText !== null) {
      if (Buffer.byteLength(bodyText) > CLOUDFORMATION_LIMITS.templateBodyBytes) throw new ValidationError(`Templates with a size greater than ${CLOUDFORMATION_LIMITS.templateBodyBytes} bytes must be deployed via an S3 Bucket`);
      return { text: bodyText, via: 'TemplateBody' };
    }
    const url = query.get('TemplateURL');
    if (!url) throw new ValidationError('Either Template URL or Template Body must be specified.');
    // The CLI gives a path-style URL on its endpoint, this stand-in; the object is in moto.
    const [, bucket, ...key] = new URL(url).pathname.split('/');
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key.join('/') })).catch((error: Error) => {
      throw new ValidationError(`TemplateURL must be a supported URL (${url}: ${error.name})`);
    });
    const text = await object.Body!.transformToString();
    if (Buffer.byteLength(text) > CLOUDFORMATION_LIMITS.templateObjectBytes) throw new ValidationError(`Template may not exceed ${CLOUDFORMATION_LIMITS.templateObjectBytes} bytes in size.`);
    return { text, via: 'TemplateURL' };
  }

  async function createChangeSet(query: URLSearchParams, res: ServerResponse): Promise<void> {
    const name = query.get('StackName') ?? '';
    const type = query.get('ChangeSetType') === 'UPDATE' ? 'UPDATE' : 'CREATE';
    const existing = stacks.get(name);
    if (type === 'UPDATE' && !existing) throw new ValidationError(`Stack [${name}] does not exist`);
    if (type === 'CREATE' && existing) throw new ValidationError(`Stack [${name}] already exists and cannot be created again with the changeSet`);
    const { text, via } = await templateOf(query);
    const template = yamlParse(text) as Template;
    const declared = template.Parameters ?? {};
    if (Object.keys(template.Resources ?? {}).length > CLOUDFORMATION_LIMITS.resources) throw new ValidationError(`Template format error: Number of resources, ${Object.keys(template.Resources ?? {}).length}, is greater than maximum allowed, ${CLOUDFORMATION_LIMITS.resources}`);
    if (Object.keys(declared).length > CLOUDFORMATION_LIMITS.parameters) throw new ValidationError('Template format error: too many parameters');
    if (Object.keys(template.Outputs ?? {}).length > CLOUDFORMATION_LIMITS.outputs) throw new ValidationError('Template format error: too many outputs');
    const given = members(query, 'Parameters');
    const unknown = given.map((entry) => entry.ParameterKey ?? '').filter((key) => !(key in declared));
    if (unknown.length > 0) throw new ValidationError(`Parameters: [${unknown.join(', ')}] do not exist in the template`);
    const parameters: Record<string, string> = {};
    for (const entry of given) {
      const key = entry.ParameterKey!;
      if (entry.UsePreviousValue === 'true') {
        if (!existing || !(key in existing.parameters)) throw new ValidationError(`Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`);
        parameters[key] = existing.parameters[key]!;
      } else {
        parameters[key] = entry.ParameterValue ?? '';
      }
    }
    const missing = Object.entries(declared)
      .filter(([key, parameter]) => !(key in parameters) && parameter.Default === undefined)
      .map(([key]) => key);
    if (missing.length > 0) throw new ValidationError(`Parameters: [${missing.join(', ')}] must have values`);
    // What the stack then holds, and what a later UsePreviousValue reads: every parameter, defaults included.
    for (const [key, parameter] of Object.entries(declared)) {
      parameters[key] ??= defaultOf(parameter);
      checkValue(key, parameter, parameters[key]);
    }
    const capabilities = members(query, 'Capabilities').map((entry) => entry['']!);
    const needed = requiredCapability(template);
    if (needed && !capabilities.includes(needed) && !(needed === 'CAPABILITY_IAM' && capabilities.includes('CAPABILITY_NAMED_IAM'))) throw new ValidationError(`Requires capabilities : [${needed}]`);
    const stack: Stack = existing ?? { id: `arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/standin`, template, parameters: {}, status: 'REVIEW_IN_PROGRESS' };
    const changeSetName = query.get('ChangeSetName') ?? 'change';
    stack.pending = { id: `arn:aws:cloudformation:us-east-1:123456789012:changeSet/${changeSetName}/standin`, name: changeSetName, type, template, parameters };
    stacks.set(name, stack);
    accepted.push({ stack: name, type, via, templateBytes: Buffer.byteLength(text), parameters, capabilities });
    answer(res, 'CreateChangeSet', `<Id>${xml(stack.pending.id)}</Id><StackId>${xml(stack.id)}</StackId>`);
  }

  function stackNamed(query: URLSearchParams): [string, Stack] {
    const name = query.get('StackName') ?? '';
    const stack = stacks.get(name) ?? [...stacks.values()].find((candidate) => candidate.id === name);
    if (!stack) throw new ValidationError(`Stack with id ${name} does not exist`);
    return [name, stack];
  }

  async function cloudFormation(query: URLSearchParams, res: ServerResponse): Promise<void> {
    const action = query.get('Action');
    if (action === 'CreateChangeSet') return createChangeSet(query, res);
    if (action === 'DescribeChangeSet') {
      const [name, stack] = stackNamed(query);
      if (!stack.pending) throw new ValidationError(`ChangeSet [${query.get('ChangeSetName')}] does not exist`);
      return answer(res, action, `<ChangeSetName>${xml(stack.pending.name)}</ChangeSetName><ChangeSetId>${xml(stack.pending.id)}</ChangeSetId><StackName>${xml(name)}</StackName><StackId>${xml(stack.id)}</StackId><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes/>`);
    }
    if (action === 'ExecuteChangeSet') {
      const [, stack] = stackNamed(query);
      if (!stack.pending) throw new ValidationError(`ChangeSet [${query.get('ChangeSetName')}] does not exist`);
      stack.template = stack.pending.template;
      stack.parameters = stack.pending.parameters;
      stack.status = stack.pending.type === 'CREATE' ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE';
      delete stack.pending;
      return answer(res, action, '');
    }
    if (action === 'GetTemplateSummary') {
      const [, stack] = stackNamed(query);
      const parameters = Object.entries(stack.template.Parameters ?? {})
        .map(([key, parameter]) => `<member><ParameterKey>${xml(key)}</ParameterKey><ParameterType>${xml(parameter.Type ?? 'String')}</ParameterType>${parameter.Default === undefined ? '' : `<DefaultValue>${xml(defaultOf(parameter))}</DefaultValue>`}</member>`)
        .join('');
      return answer(res, action, `<Parameters>${parameters}</Parameters>`);
    }
    if (action === 'DescribeStacks') {
      const [name, stack] = stackNamed(query);
      const declaredOutputs = stack.status === 'REVIEW_IN_PROGRESS' ? [] : Object.keys(stack.template.Outputs ?? {});
      const outputXml = declaredOutputs.map((key) => `<member><OutputKey>${xml(key)}</OutputKey><OutputValue>${xml(outputs[key] ?? `standin-${key}`)}</OutputValue></member>`).join('');
      const parameterXml = Object.entries(stack.parameters).map(([key, value]) => `<member><ParameterKey>${xml(key)}</ParameterKey><ParameterValue>${xml(value)}</ParameterValue></member>`).join('');
      return answer(res, action, `<Stacks><member><StackName>${xml(name)}</StackName><StackId>${xml(stack.id)}</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>${stack.status}</StackStatus><Parameters>${parameterXml}</Parameters><Outputs>${outputXml}</Outputs></member></Stacks>`);
    }
    throw new ValidationError(`The stand-in does not answer ${String(action)}`);
  }

  /** Anything but CloudFormation (S3, by the commands at hand) goes to moto unchanged. */
  function toMoto(req: IncomingMessage, res: ServerResponse, payload: Buffer): void {
    const forwarded = request({ host: motoUrl.hostname, port: motoUrl.port, method: req.method, path: req.url, headers: { ...req.headers, host: motoUrl.host } }, (answerFromMoto) => {
      res.writeHead(answerFromMoto.statusCode ?? 502, answerFromMoto.headers);
      answerFromMoto.pipe(res);
    });
    forwarded.on('error', (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    forwarded.end(payload);
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const payload = await body(req);
      // The request's signature names its service: the CLI signs CloudFormation calls for `cloudformation`.
      if (!/\/cloudformation\/aws4_request/.test(req.headers.authorization ?? '')) return toMoto(req, res, payload);
      const query = new URLSearchParams(payload.toString('utf8'));
      try {
        await cloudFormation(query, res);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        // "Does not exist" is how the CLI learns that a deploy creates the stack: an answer, not a refusal.
        if (query.get('Action') !== 'DescribeStacks') refused.push(`${String(query.get('Action'))} ${String(query.get('StackName'))}: ${error.message}`);
        refuse(res, error.message);
      }
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accepted,
    refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
