// A recognised policy engine over both templates as deployed (the backend as npm run build generates
// it): cfn-guard 3 with the AWS Control Tower proactive controls. Every failure is fixed in the template
// or suppressed there with a reason (a generated resource's, in cloudformation/generate.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTemplate, readSourceText, resolveWith, templatePath, type CfnTemplate, type TemplateName } from './cloudformation.js';
import { gate } from '../helpers/requirements.js';
import { cfnGuardUnavailableReason, guardProblems, runCfnGuard, suppressionsOf, type GuardFailure } from './cfn-guard.js';

const TEMPLATES: TemplateName[] = ['backend', 'frontend'];
/** The load balancer's HTTPS controls: CT.ELASTICLOADBALANCING.PR.1 (port 80 redirects) and PR.2 (an ACM certificate). */
const HTTPS_RULES = ['alb_http_to_https_redirection_check', 'elbv2_acm_certificate_required_check'];

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
      `cfn-guard: ${run.rulesFiles} Control Tower rule files over ${TEMPLATES.length} templates; ${failures.length} failures (rule x resource), ${suppressed.join(' + ')} suppressions with reasons\n` +
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
});
