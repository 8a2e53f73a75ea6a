// A recognised policy engine over both templates as deployed (the backend as npm run build generates
// it): cfn-guard 3 with the AWS Control Tower proactive controls and the project's own rules
// (cloudformation/guard/: what Control Tower checks on launch templates only, on a standalone
// instance). Every failure is fixed in the template or suppressed there with a reason (a generated
// resource's, in cloudformation/generate.ts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTemplate, readSourceText, resolveWith, templatePath, type CfnTemplate, type TemplateName } from './cloudformation.js';
import { gate } from '../helpers/requirements.js';
import { cfnGuardUnavailableReason, guardProblems, PROJECT_RULES, runCfnGuard, suppressionsOf, type GuardFailure } from './cfn-guard.js';

const TEMPLATES: TemplateName[] = ['backend', 'frontend'];
/** The load balancer's HTTPS controls: CT.ELASTICLOADBALANCING.PR.1 (port 80 redirects) and PR.2 (an ACM certificate). */
const HTTPS_RULES = ['alb_http_to_https_redirection_check', 'elbv2_acm_certificate_required_check'];
/** The project's rules on a standalone instance (cloudformation/guard/ec2-instances.guard). */
const INSTANCE_RULES = ['ec2_instance_imdsv2_required_check', 'ec2_instance_volumes_encrypted_check', 'ec2_instance_no_key_pair_check', 'ec2_instance_no_ssh_check'];
/** The small shop's frontend parameters (cloudformation/small-shop-frontend.json), as a stack is given them. */
const SMALL_SHOP = Object.fromEntries(
  (JSON.parse(readFileSync(new URL('../../cloudformation/small-shop-frontend.json', import.meta.url), 'utf8')) as { ParameterKey: string; ParameterValue: string }[]).map(({ ParameterKey, ParameterValue }) => [ParameterKey, ParameterValue]),
);

/** frontend.yaml as a stack with these parameters holds it: conditions decided, parameters in place (what cfn-guard cannot resolve itself). */
function frontendAsDeployed(parameters: Record<string, string>): CfnTemplate {
  const template = loadTemplate('frontend');
  const kept = Object.entries(template.Resources).filter(([, resource]) => !resource.Condition || resolveWith(template, { Condition: resource.Condition }, parameters));
  return { ...template, Resources: Object.fromEntries(kept.map(([id, resource]) => [id, resolveWith(template, resource, parameters) as CfnTemplate['Resources'][string]])) };
}
// Through the one gate: under CI=true a missing cfn-guard fails these tests, elsewhere they are skipped saying why.
gate('the cfn-guard tests', cfnGuardUnavailableReason()).describe('cloudformation: cfn-guard with the AWS Control Tower rules', () => {
  let failures: GuardFailure[] = [];
  beforeAll(() => {
    const run = runCfnGuard(TEMPLATES.map(templatePath));
    failures = run.failures;
    const suppressed = TEMPLATES.map((name) => [...suppressionsOf(loadTemplate(name)).values()].reduce((count, rules) => count + rules.size, 0));
    console.log(
      `cfn-guard: ${run.rulesFiles} rule files (Control Tower's and the project's) over ${TEMPLATES.length} templates; ${failures.length} failures (rule x resource), ${suppressed.join(' + ')} suppressions with reasons\n` +
        [...new Set(failures.map((failure) => `  ${failure.template} ${failure.rule}`))].join('\n'),
    );
  }, 120_000);

  it.each(TEMPLATES)('when %s.yaml is checked, then every Control Tower failure is suppressed in the template with a reason, and every suppression is still needed', (name) => {
    expect(guardProblems(`${name}.yaml`, loadTemplate(name), failures)).toEqual([]);
  });

  it('when the rules ran, then they found something to judge in both templates (a broken run reports nothing)', () => {
    expect(new Set(failures.map((failure) => failure.template))).toEqual(new Set(['backend.yaml', 'frontend.yaml']));
    expect(failures.every((failure) => failure.resource !== '(template)')).toBe(true);
  });

  it('when a suppression loses its reason, then the check fails naming the resource and the rule', () => {
    const template = loadTemplate('frontend');
    const guard = template.Resources.LoadBalancer!.Metadata!.guard as { SuppressionReasons: Record<string, string> };
    delete guard.SuppressionReasons.elbv2_deletion_protection_enabled_check;
    expect(guardProblems('frontend.yaml', template, failures)).toEqual([
      'frontend.yaml: LoadBalancer suppresses elbv2_deletion_protection_enabled_check without a reason (Metadata.guard.SuppressionReasons.elbv2_deletion_protection_enabled_check, at least 40 characters)',
    ]);
    // A reason that says nothing counts as none.
    guard.SuppressionReasons.elbv2_deletion_protection_enabled_check = 'not needed';
    expect(guardProblems('frontend.yaml', template, failures)).toHaveLength(1);
  });

  it('when a suppression is dropped, or kept after the resource was fixed, then the check fails', () => {
    const template = loadTemplate('backend');
    const guard = template.Resources.SubmitOrderFunction!.Metadata!.guard as { SuppressedRules: string[] };
    guard.SuppressedRules = guard.SuppressedRules.filter((rule) => rule !== 'lambda_inside_vpc_check');
    expect(guardProblems('backend.yaml', template, failures)).toEqual([
      'backend.yaml: SubmitOrderFunction fails lambda_inside_vpc_check and does not suppress it (fix it, or add it to Metadata.guard.SuppressedRules with a reason)',
      'backend.yaml: SubmitOrderFunction has lambda_inside_vpc_check (a reason, but not in SuppressedRules)',
    ]);
    const stale = loadTemplate('backend');
    const queue = (stale.Resources.OrdersQueue!.Metadata ??= {});
    queue.guard = { SuppressedRules: ['sqs_dlq_check'], SuppressionReasons: { sqs_dlq_check: 'The orders queue redrives to orders-dlq after MaxReceiveCount receives.' } };
    expect(guardProblems('backend.yaml', stale, failures)).toEqual(['backend.yaml: OrdersQueue suppresses sqs_dlq_check, which it no longer fails (remove the suppression)']);
  });

  it('when frontend.yaml is deployed with a certificate, then both HTTPS controls pass with nothing suppressed; with AllowInsecureHttp instead, port 80 fails the redirect control', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orders-cfn-guard-deployed-'));
    try {
      const httpsFailures = (name: string, parameters: Record<string, string>) => {
        const file = join(dir, `${name}.json`);
        writeFileSync(file, JSON.stringify(frontendAsDeployed(parameters)));
        return runCfnGuard([file]).failures.filter((failure) => HTTPS_RULES.includes(failure.rule)).map(({ rule, resource }) => `${resource} ${rule}`);
      };
      expect(httpsFailures('with-certificate', { CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000' })).toEqual([]);
      expect(httpsFailures('insecure', { AllowInsecureHttp: 'true' })).toEqual(['PlainHttpListener alb_http_to_https_redirection_check']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('when a template loses a control it meets (the artifact bucket\'s TLS-only policy), then cfn-guard fails it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orders-cfn-guard-mutant-'));
    try {
      const text = readSourceText('frontend').replace("aws:SecureTransport: 'false'", "aws:SecureTransport: 'true'");
      const file = join(dir, 'frontend.yaml');
      writeFileSync(file, text);
      const mutant = runCfnGuard([file]).failures;
      expect(guardProblems('frontend.yaml', loadTemplate('frontend'), mutant)).toEqual([expect.stringMatching(/ArtifactBucketPolicy fails s3_bucket_policy_ssl_requests_only_check and does not suppress it/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
  describe('the NAT instance (NatInstance \'true\', as the small-shop parameters deploy it)', () => {
    const certificate = { CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000' };
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'orders-cfn-guard-nat-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    /** cfn-guard's failures on frontend.yaml deployed with the small-shop parameters, after `edit`, as "resource rule". */
    const failuresOn = (name: string, edit: (template: CfnTemplate) => void = () => undefined) => {
      const template = frontendAsDeployed({ ...SMALL_SHOP, ...certificate });
      edit(template);
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(template));
      return runCfnGuard([file]).failures.map(({ rule, resource }) => `${resource} ${rule}`);
    };
    const nat = (template: CfnTemplate) => template.Resources.NatHost!.Properties!;

    it('when deployed, then it meets the project\'s rules (IMDSv2, one hop, encrypted root volume, no key pair, no SSH) and fails only the Control Tower rules it suppresses', () => {
      const template = frontendAsDeployed({ ...SMALL_SHOP, ...certificate });
      expect(template.Resources.NatHost?.Type).toBe('AWS::EC2::Instance');
      const found = failuresOn('small-shop');
      expect(found.filter((line) => INSTANCE_RULES.some((rule) => line.endsWith(` ${rule}`)))).toEqual([]);
      // Its public address, its monitoring (off in the small shop) and its type's in-transit encryption,
      // each suppressed on it with its reason; its type, resolved here, passes the Nitro check.
      const onNat = found.filter((line) => line.startsWith('NatHost ')).map((line) => line.slice('NatHost '.length)).sort();
      expect(onNat).toEqual(['ec2_instance_detailed_monitoring_enabled_check', 'ec2_instance_nitro_encryption_in_transit_check', 'ec2_instance_no_public_ip_check']);
      const suppressed = suppressionsOf(loadTemplate('frontend')).get('NatHost')!;
      for (const rule of onNat) expect({ rule, suppressed: suppressed.has(rule) }).toEqual({ rule, suppressed: true });
    }, 120_000);

    it.each([
      ['IMDSv1 allowed', 'NatHost ec2_instance_imdsv2_required_check', (t: CfnTemplate): unknown => ((nat(t).MetadataOptions as Record<string, unknown>).HttpTokens = 'optional')],
      ['a second metadata hop', 'NatHost ec2_instance_imdsv2_required_check', (t: CfnTemplate): unknown => ((nat(t).MetadataOptions as Record<string, unknown>).HttpPutResponseHopLimit = 2)],
      ['no metadata options', 'NatHost ec2_instance_imdsv2_required_check', (t: CfnTemplate): unknown => delete nat(t).MetadataOptions],
      ['an unencrypted root volume', 'NatHost ec2_instance_volumes_encrypted_check', (t: CfnTemplate): unknown => ((nat(t).BlockDeviceMappings as { Ebs: Record<string, unknown> }[])[0]!.Ebs.Encrypted = false)],
      ['the AMI\'s own root volume', 'NatHost ec2_instance_volumes_encrypted_check', (t: CfnTemplate): unknown => delete nat(t).BlockDeviceMappings],
      ['a key pair', 'NatHost ec2_instance_no_key_pair_check', (t: CfnTemplate): unknown => (nat(t).KeyName = 'ops')],
      [
        'SSH in its group',
        'NatSecurityGroup ec2_instance_no_ssh_check',
        (t: CfnTemplate): unknown => (t.Resources.NatSecurityGroup!.Properties!.SecurityGroupIngress as unknown[]).push({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '10.20.0.0/16' }),
      ],
      [
        'every protocol let in by a rule of its own',
        'NatSshIngress ec2_instance_no_ssh_check',
        (t: CfnTemplate): unknown => (t.Resources.NatSshIngress = { Type: 'AWS::EC2::SecurityGroupIngress', Properties: { GroupId: { Ref: 'NatSecurityGroup' }, IpProtocol: '-1', CidrIp: '0.0.0.0/0' } }),
      ],
    ] as const)('when it is given %s, then the project\'s rules fail it', (_case, expected, edit) => {
      const found = failuresOn(expected.replace(/\W+/g, '-'), edit);
      expect(found.filter((line) => INSTANCE_RULES.some((rule) => line.endsWith(` ${rule}`)))).toEqual([expected]);
    }, 120_000);

    it('when the rules are read, then they are the project\'s own file, run beside Control Tower\'s', () => {
      expect(readFileSync(join(PROJECT_RULES, 'ec2-instances.guard'), 'utf8').match(/^rule (ec2_instance_\w+)/gm)?.map((line) => line.slice('rule '.length)).sort()).toEqual([...INSTANCE_RULES].sort());
    });
  });
});
