# Mocked AWS: no credentials, no network. Values only AWS knows come from the defaults below;
# ARN-shaped because the provider validates them.
mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/order-web-instance" }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = { arn = "arn:aws:iam::123456789012:instance-profile/order-web-instance" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      id  = "order-web-artifacts-mock"
      arn = "arn:aws:s3:::order-web-artifacts-mock"
    }
  }
  mock_resource "aws_lb" {
    defaults = {
      arn      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/order-web/0123456789abcdef"
      dns_name = "order-web-123456.us-east-1.elb.amazonaws.com"
    }
  }
  mock_resource "aws_lb_target_group" {
    defaults = { arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/order-web/0123456789abcdef" }
  }
  mock_resource "aws_launch_template" {
    defaults = {
      id             = "lt-0123456789abcdef0"
      latest_version = 1
    }
  }
  mock_resource "aws_vpc" {
    defaults = { id = "vpc-0123456789abcdef0" }
  }
  mock_resource "aws_subnet" {
    defaults = { id = "subnet-0123456789abcdef0" }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0123456789abcdef0" }
  }
  mock_resource "aws_nat_gateway" {
    defaults = { id = "nat-0123456789abcdef0" }
  }
  mock_resource "aws_internet_gateway" {
    defaults = { id = "igw-0123456789abcdef0" }
  }
  mock_resource "aws_wafv2_web_acl" {
    defaults = { arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/order-web/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_instance" {
    defaults = {
      id                           = "i-0123456789abcdef0"
      arn                          = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"
      primary_network_interface_id = "eni-0123456789abcdef0"
      public_ip                    = "203.0.113.10"
      # What AWS would fill in when the module sets nothing: a key or a profile the module set would show.
      key_name             = ""
      iam_instance_profile = ""
    }
  }
  # An account whose zones in the region are b, c and d (it has no "a"): the subnets must follow it.
  mock_data "aws_availability_zones" {
    defaults = { names = ["us-east-1d", "us-east-1b", "us-east-1c"] }
  }
}

variables {
  ops_alarms_topic_arn   = "arn:aws:sns:us-east-1:123456789012:ops-alarms"
  api_base_url           = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1"
  api_key_parameter_name = "/order-pipeline/api-key"
  cognito_user_pool_id   = "us-east-1_Mock12345"
  cognito_client_id      = "mockclient1234567890abcdef"
  cognito_issuer         = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Mock12345"
  order_events_topic_arn = "arn:aws:sns:us-east-1:123456789012:order-events"
  web_artifact_path      = "tests/fixtures/order-web.tar.gz"
  # A deployment needs a certificate unless it opts in to plain HTTP (the runs that do say so).
  certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
}

run "instances_require_imdsv2_and_encrypt_their_disk" {
  command = apply

  assert {
    condition     = aws_launch_template.web.metadata_options[0].http_tokens == "required" && aws_launch_template.web.metadata_options[0].http_put_response_hop_limit <= 2
    error_message = "Instances must require IMDSv2 tokens."
  }
  assert {
    condition     = aws_launch_template.web.block_device_mappings[0].ebs[0].encrypted == "true" && aws_launch_template.web.block_device_mappings[0].ebs[0].volume_type == "gp3"
    error_message = "The root volume must be encrypted gp3."
  }
  assert {
    condition     = aws_launch_template.web.key_name == null
    error_message = "No key pair: there is no SSH."
  }
  assert {
    condition     = aws_launch_template.web.image_id == "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64" && startswith(aws_launch_template.web.instance_type, "t4g.")
    error_message = "The default is Amazon Linux 2023 on an arm64 (Graviton) instance type."
  }
}

run "user_data_installs_node_22_and_holds_no_secret" {
  command = apply

  assert {
    condition     = strcontains(base64decode(aws_launch_template.web.user_data), "dnf install -y nodejs22") && strcontains(base64decode(aws_launch_template.web.user_data), "pm2-runtime start ecosystem.config.cjs")
    error_message = "User data must install Node 22 and start the app under pm2-runtime."
  }
  assert {
    condition     = strcontains(base64decode(aws_launch_template.web.user_data), "API_KEY_PARAMETER=/order-pipeline/api-key") && !strcontains(base64decode(aws_launch_template.web.user_data), "API_KEY=")
    error_message = "User data names the key parameter and never carries a key."
  }
  assert {
    condition     = strcontains(base64decode(aws_launch_template.web.user_data), "User=order-web")
    error_message = "The app must run as its own non-root user."
  }
  assert {
    condition     = strcontains(aws_s3_object.web_artifact.key, filesha256("tests/fixtures/order-web.tar.gz")) && strcontains(base64decode(aws_launch_template.web.user_data), aws_s3_object.web_artifact.key)
    error_message = "The artifact key must carry the build's hash, so a new build changes the launch template."
  }
}

run "only_the_load_balancer_reaches_the_instances" {
  command = apply

  variables {
    allowed_cidrs       = ["203.0.113.0/24"]
    certificate_arn     = null
    allow_insecure_http = true
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.instance_from_alb.referenced_security_group_id == aws_security_group.alb.id && aws_vpc_security_group_ingress_rule.instance_from_alb.from_port == 3000 && aws_vpc_security_group_ingress_rule.instance_from_alb.to_port == 3000
    error_message = "Instances admit the app port from the ALB's security group only."
  }
  assert {
    condition     = alltrue([for rule in aws_vpc_security_group_ingress_rule.alb : rule.cidr_ipv4 == "203.0.113.0/24" && rule.from_port == 80]) && length(aws_vpc_security_group_ingress_rule.alb) == 1
    error_message = "Without a certificate the ALB admits port 80 from the allowed CIDRs only."
  }
  assert {
    condition     = aws_lb.web.drop_invalid_header_fields && !aws_lb.web.internal
    error_message = "The public ALB must drop invalid header fields."
  }
  assert {
    condition     = aws_lb_target_group.web.port == 3000 && aws_lb_target_group.web.health_check[0].path == "/healthz"
    error_message = "The target group checks /healthz on the app port."
  }
  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "forward" && length(aws_lb_listener.https) == 0 && startswith(output.site_url, "http://")
    error_message = "Without a certificate, HTTP serves the site."
  }
}

# Must show 1: a certificate (given in the variables above) serves HTTPS with TLS 1.2 or later, and
# port 80 only redirects to it; no certificate and no opt-in fails the plan; the opt-in warns.
run "a_certificate_serves_tls_1_2_or_later_and_http_redirects" {
  command = plan

  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "redirect" && aws_lb_listener.http.default_action[0].redirect[0].protocol == "HTTPS" && aws_lb_listener.http.default_action[0].redirect[0].port == "443"
    error_message = "With a certificate, HTTP must redirect to HTTPS."
  }
  assert {
    condition     = length(aws_lb_listener.https) == 1 && aws_lb_listener.https[0].port == 443 && aws_lb_listener.https[0].protocol == "HTTPS" && aws_lb_listener.https[0].certificate_arn == var.certificate_arn && contains([for rule in aws_vpc_security_group_ingress_rule.alb : rule.from_port], 443)
    error_message = "With a certificate, the ALB listens on 443 with it."
  }
  assert {
    # TLS 1.3 and 1.2 only: AWS's ELBSecurityPolicy-TLS13-1-2-2021-06 (no TLS 1.0 or 1.1).
    condition     = aws_lb_listener.https[0].ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    error_message = "The HTTPS listener must refuse anything older than TLS 1.2."
  }
  assert {
    condition     = output.insecure_http_warning == null
    error_message = "Served over HTTPS, there is nothing to warn about."
  }
}

run "without_a_certificate_or_the_insecure_opt_in_the_plan_fails" {
  command = plan

  variables {
    certificate_arn = null
  }

  # The precondition whose message names allow_insecure_http (the rehearsal reads the message).
  expect_failures = [aws_lb_listener.http]
}

run "the_insecure_opt_in_serves_plain_http_and_warns_in_the_outputs" {
  command = plan

  variables {
    certificate_arn     = null
    allow_insecure_http = true
  }

  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "forward" && length(aws_lb_listener.https) == 0
    error_message = "With the opt-in and no certificate, port 80 serves the site."
  }
  assert {
    condition     = startswith(output.insecure_http_warning, "WARNING: INSECURE.") && strcontains(output.insecure_http_warning, "passwords and session cookies cross the network in clear text")
    error_message = "The opt-in must put a loud warning in the outputs."
  }
}

# Must show 4: the access logs' writer in a region opened after August 2022 (no ELB account there:
# the log delivery service principal) and in one opened before (its ELB account).
run "in_eu_central_2_the_log_delivery_service_principal_writes_the_access_logs" {
  command = plan

  variables {
    aws_region             = "eu-central-2"
    certificate_arn        = "arn:aws:acm:eu-central-2:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    order_events_topic_arn = "arn:aws:sns:eu-central-2:123456789012:order-events"
  }

  assert {
    # (Every mocked bucket's ARN is the one default above.)
    condition     = jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement[0].Principal == { Service = "logdelivery.elasticloadbalancing.amazonaws.com" } && jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement[0].Resource == "arn:aws:s3:::order-web-artifacts-mock/order-web-alb/AWSLogs/123456789012/*"
    error_message = "In eu-central-2 the log delivery service principal writes the logs, under the load balancer's prefix only."
  }
}

run "in_us_east_1_the_regions_elb_account_writes_the_access_logs" {
  command = plan

  assert {
    condition     = jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement[0].Principal == { AWS = "arn:aws:iam::127311923021:root" }
    error_message = "In us-east-1 Elastic Load Balancing's account for the region writes the logs."
  }
}

run "instances_read_only_their_artifact_and_key" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_role_policy.web.policy).Statement == [
      { Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::order-web-artifacts-mock/${aws_s3_object.web_artifact.key}" },
      { Effect = "Allow", Action = "ssm:GetParameter", Resource = "arn:aws:ssm:us-east-1:123456789012:parameter/order-pipeline/api-key" },
    ]
    error_message = "The instance role may read the artifact object and the key parameter, nothing more."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.web_session_manager.policy).Statement[0].Action == [
      "ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
    ]
    error_message = "Instances are managed through Session Manager, with the agent's own actions only."
  }
}

run "artifact_bucket_is_private_versioned_and_encrypted" {
  command = apply

  assert {
    condition     = aws_s3_bucket_public_access_block.artifacts.block_public_acls && aws_s3_bucket_public_access_block.artifacts.block_public_policy && aws_s3_bucket_public_access_block.artifacts.ignore_public_acls && aws_s3_bucket_public_access_block.artifacts.restrict_public_buckets
    error_message = "The artifact bucket must block all public access."
  }
  assert {
    condition     = aws_s3_bucket_versioning.artifacts.versioning_configuration[0].status == "Enabled" && aws_s3_bucket_ownership_controls.artifacts.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "The artifact bucket must be versioned and owner-enforced."
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.artifacts.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "The artifact bucket must be encrypted at rest."
  }
}

run "the_group_rolls_on_a_new_launch_template" {
  command = apply

  assert {
    condition     = length(aws_autoscaling_group.web.instance_refresh) == 1 && aws_autoscaling_group.web.instance_refresh[0].strategy == "Rolling"
    error_message = "A launch template change must start a rolling instance refresh."
  }
  assert {
    condition     = aws_autoscaling_group.web.health_check_type == "ELB" && aws_autoscaling_group.web.min_size == 2 && aws_autoscaling_group.web.max_size == 4
    error_message = "The group uses the ALB's health checks, 2 to 4 instances."
  }
  assert {
    condition     = aws_autoscaling_policy.cpu.policy_type == "TargetTrackingScaling"
    error_message = "The group scales by target tracking."
  }
  assert {
    condition     = length(aws_subnet.public) == 2 && toset(aws_subnet.public[*].availability_zone) == toset(["us-east-1b", "us-east-1c"])
    error_message = "The VPC has public subnets in the first two zones the account has."
  }
}

# Must show 2: the defaults, planned, put the instances in private subnets without public addresses,
# in zones read from the account, behind a load balancer with a WAF web ACL.
run "default_plan_is_private_in_the_accounts_zones_and_behind_waf" {
  command = plan

  override_resource {
    target          = aws_lb.web
    override_during = plan
    values = {
      arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/order-web/0123456789abcdef"
      arn_suffix = "app/order-web/0123456789abcdef"
    }
  }

  assert {
    condition     = one(aws_launch_template.web.network_interfaces).associate_public_ip_address == "false"
    error_message = "No instance may get a public IP."
  }
  assert {
    condition     = length(aws_subnet.private) == 2 && alltrue([for subnet in concat(aws_subnet.private, aws_subnet.public) : !subnet.map_public_ip_on_launch])
    error_message = "The instances' subnets are private, and no subnet hands out public addresses."
  }
  assert {
    condition     = alltrue([for table in aws_route_table.private : one(table.route).gateway_id == null || one(table.route).gateway_id == ""])
    error_message = "The private subnets never route to an internet gateway."
  }
  assert {
    condition     = tolist(aws_subnet.private[*].availability_zone) == tolist(["us-east-1b", "us-east-1c"]) && tolist(aws_subnet.public[*].availability_zone) == tolist(["us-east-1b", "us-east-1c"]) && tolist(output.availability_zones) == tolist(["us-east-1b", "us-east-1c"])
    error_message = "The zones come from data.aws_availability_zones (the account has b, c, d here), not from <region>a and <region>b."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 2 && length(aws_eip.nat) == 2 && length(aws_vpc_endpoint.s3) == 1 && length(aws_vpc_endpoint.interface) == 0
    error_message = "By default: a NAT gateway a zone and the S3 gateway endpoint, no interface endpoints."
  }
  assert {
    condition     = length(aws_instance.nat) == 0 && length(aws_security_group.nat) == 0 && one(aws_launch_template.web.monitoring).enabled
    error_message = "By default: no NAT instance, and the instances have detailed monitoring."
  }
  assert {
    condition     = length(module.web_waf) == 1 && module.web_waf[0].guarded_resource_arn == "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/order-web/0123456789abcdef" && module.web_waf[0].rate_limit_per_5_minutes == 2000
    error_message = "The load balancer must be associated with the WAF web ACL, limiting 2000 a 5 minutes per IP (terraform-modules/waf-acl, whose own tests check its rules)."
  }
  assert {
    condition     = one(aws_lb.web.access_logs).enabled && one(aws_lb.web.access_logs).prefix == "order-web-alb"
    error_message = "The load balancer writes access logs."
  }
}

run "waf_nat_and_endpoints_are_variables" {
  command = plan

  variables {
    waf_enabled             = false
    nat_gateway_per_zone    = false
    vpc_interface_endpoints = true
    availability_zone_count = 3
  }

  assert {
    condition     = length(module.web_waf) == 0
    error_message = "waf_enabled = false leaves out the web ACL and its log."
  }
  assert {
    condition     = length(aws_subnet.private) == 3 && length(aws_nat_gateway.this) == 1 && length(aws_route_table.private) == 3
    error_message = "One NAT gateway serves every zone's private subnet when nat_gateway_per_zone = false."
  }
  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["ssm", "ssmmessages", "ec2messages", "logs", "monitoring", "sqs", "sns"]) && alltrue([for e in aws_vpc_endpoint.interface : e.private_dns_enabled])
    error_message = "vpc_interface_endpoints adds the SSM, Session Manager, CloudWatch, SQS and SNS endpoints with private DNS: only the orders API and Cognito are left to the NAT."
  }
}

run "access_logs_are_encrypted_private_and_expire" {
  command = apply

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.access_logs.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256" && aws_s3_bucket_public_access_block.access_logs.restrict_public_buckets && aws_s3_bucket_public_access_block.access_logs.block_public_policy
    error_message = "The access log bucket is encrypted (SSE-S3, the only kind ALB delivery supports) and private."
  }
  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.access_logs.rule).expiration[0].days == 30
    error_message = "Access logs expire after log_retention_days."
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement[0].Principal.AWS == "arn:aws:iam::127311923021:root" && jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement[1].Effect == "Deny"
    error_message = "Only the region's ELB account may write the logs, over TLS."
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.artifacts.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false" && one(aws_s3_bucket_lifecycle_configuration.artifacts.rule).noncurrent_version_expiration[0].noncurrent_days == 90
    error_message = "The artifact bucket is TLS only and drops replaced builds after 90 days."
  }
}

run "alarms_watch_5xx_and_unhealthy_hosts" {
  command = apply

  assert {
    condition     = aws_cloudwatch_metric_alarm.unhealthy_hosts.metric_name == "UnHealthyHostCount" && aws_cloudwatch_metric_alarm.unhealthy_hosts.threshold == 1 && aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:ops-alarms"])
    error_message = "One unhealthy host alarms ops-alarms."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.alb_5xx.threshold == 5 && toset([for q in aws_cloudwatch_metric_alarm.alb_5xx.metric_query : try(q.metric[0].metric_name, "")]) == toset(["", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"]) && aws_cloudwatch_metric_alarm.alb_5xx.ok_actions == toset(["arn:aws:sns:us-east-1:123456789012:ops-alarms"])
    error_message = "5 or more 5xx (the load balancer's and the instances') in a period alarm ops-alarms."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.no_healthy_hosts.metric_name == "HealthyHostCount" && aws_cloudwatch_metric_alarm.no_healthy_hosts.statistic == "Minimum" && aws_cloudwatch_metric_alarm.no_healthy_hosts.comparison_operator == "LessThanThreshold" && aws_cloudwatch_metric_alarm.no_healthy_hosts.threshold == 1 && aws_cloudwatch_metric_alarm.no_healthy_hosts.treat_missing_data == "breaching" && aws_cloudwatch_metric_alarm.no_healthy_hosts.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:ops-alarms"]) && strcontains(aws_cloudwatch_metric_alarm.no_healthy_hosts.alarm_description, "Threshold below 1 because")
    error_message = "No healthy host (or no metric at all) alarms ops-alarms, with the threshold's reason in its description."
  }
}

# The instances' logs through the CloudWatch agent, into a group this module keeps for a retention;
# WAF's log into its own group, without the customers' cookies or any credential.
run "instance_and_waf_logs_reach_their_log_groups" {
  command = apply

  variables {
    name_prefix = "dev-"
  }

  assert {
    condition     = strcontains(base64decode(aws_launch_template.web.user_data), "dnf install -y amazon-cloudwatch-agent") && strcontains(base64decode(aws_launch_template.web.user_data), "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/order-web.json")
    error_message = "User data must install the CloudWatch agent from the distribution and start it with its config."
  }
  assert {
    condition = [for file in jsondecode(regex("<<'AGENT'\\n([\\s\\S]*?)\\nAGENT\\n", base64decode(aws_launch_template.web.user_data))[0]).logs.logs_collected.files.collect_list : [file.file_path, file.log_group_name, file.log_stream_name]] == [
      ["/var/lib/order-web/.pm2/logs/order-web-out.log", "/ec2/dev-order-web", "{instance_id}/app"],
      ["/var/lib/order-web/.pm2/logs/order-web-error.log", "/ec2/dev-order-web", "{instance_id}/app-errors"],
      ["/var/lib/order-web/pm2-runtime.log", "/ec2/dev-order-web", "{instance_id}/pm2"],
    ]
    error_message = "The agent's config ships the app's out and error files and pm2's log to the module's log group, a stream per instance."
  }
  assert {
    condition     = aws_cloudwatch_log_group.web.name == "/ec2/dev-order-web" && aws_cloudwatch_log_group.web.retention_in_days == 30 && output.instance_log_group_name == aws_cloudwatch_log_group.web.name
    error_message = "The instances' log group carries the prefix and keeps events cloudwatch_log_retention_days."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.web_logs.policy).Statement == [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = ["arn:aws:logs:us-east-1:123456789012:log-group:mock", "arn:aws:logs:us-east-1:123456789012:log-group:mock:*"]
    }] && aws_iam_role_policy.web_logs.role == aws_iam_role.web.id
    error_message = "The instances may write their streams in their log group, nothing else of CloudWatch Logs."
  }
  assert {
    condition     = module.web_waf[0].log_group_name == "aws-waf-logs-dev-order-web" && module.web_waf[0].log_retention_days == 30
    error_message = "The web ACL logs to a group named aws-waf-logs-<prefix>order-web (WAF's rule), kept cloudwatch_log_retention_days; what it redacts is checked in terraform-modules/waf-acl's tests."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.no_healthy_hosts.alarm_name == "dev-order-web-no-healthy-hosts"
    error_message = "The alarm's name carries the prefix."
  }
}

run "named_resources_can_be_replaced" {
  command = apply

  assert {
    condition     = alltrue([for table in aws_route_table.private : one(table.route).nat_gateway_id == "nat-0123456789abcdef0"])
    error_message = "The private subnets route out through the NAT gateways."
  }

  assert {
    condition     = aws_lb_target_group.web.name_prefix == "web-" && aws_security_group.alb.name_prefix == "order-web-alb-" && aws_security_group.instance.name_prefix == "order-web-instance-"
    error_message = "The target group and security groups are named by prefix, so a replacement never collides with the old name."
  }
}

# IAM names are global to the account: two prefixes, or one prefix in two regions, must not collide.
run "iam_names_carry_the_prefix_and_the_region" {
  command = plan

  variables {
    name_prefix            = "dev-"
    aws_region             = "eu-west-1"
    order_events_topic_arn = "arn:aws:sns:eu-west-1:123456789012:order-events"
  }

  assert {
    condition     = aws_iam_role.web.name == "dev-order-web-instance-eu-west-1" && aws_iam_instance_profile.web.name == "dev-order-web-instance-eu-west-1"
    error_message = "The instance role and profile are named <prefix>order-web-instance-<region>."
  }
}

run "existing_network_is_used_as_given" {
  command = plan

  variables {
    vpc_id             = "vpc-0123456789abcdef0"
    public_subnet_ids  = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    private_subnet_ids = ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"]
  }

  assert {
    condition     = length(aws_vpc.this) == 0 && length(aws_subnet.public) == 0 && length(aws_nat_gateway.this) == 0 && aws_security_group.alb.vpc_id == "vpc-0123456789abcdef0"
    error_message = "Given a VPC, the module creates none."
  }
  assert {
    condition     = aws_autoscaling_group.web.vpc_zone_identifier == toset(["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"]) && aws_lb.web.subnets == toset(["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"])
    error_message = "The instances run in the private subnets given, the load balancer in the public ones."
  }
}

run "rejects_min_above_desired" {
  command = plan

  variables {
    capacity = { min = 3, desired = 2, max = 4 }
  }

  expect_failures = [var.capacity]
}

run "rejects_desired_above_max" {
  command = plan

  variables {
    capacity = { min = 1, desired = 5, max = 4 }
  }

  expect_failures = [var.capacity]
}

run "rejects_zero_instances" {
  command = plan

  variables {
    capacity = { min = 0, desired = 0, max = 0 }
  }

  expect_failures = [var.capacity]
}

run "rejects_a_bad_cidr" {
  command = plan

  variables {
    allowed_cidrs = ["everyone"]
  }

  expect_failures = [var.allowed_cidrs]
}

# The longest prefix the CloudFormation template's NamePrefix allows too (test/iac/cloudformation.test.ts).
run "takes_a_17_character_prefix" {
  command = plan

  variables {
    name_prefix = "staging-shop-one-"
  }

  assert {
    condition     = aws_lb.web.name == "staging-shop-one-order-web" && length(aws_lb.web.name) <= 32
    error_message = "A 17-character prefix must make a load balancer name within ALB's 32 characters."
  }
}

run "rejects_an_18_character_prefix" {
  command = plan

  variables {
    name_prefix = "staging-shop-two--"
  }

  expect_failures = [var.name_prefix]
}

run "the_web_tier_is_told_the_customers_user_pool" {
  command = apply

  assert {
    condition = (strcontains(base64decode(aws_launch_template.web.user_data), "\nCOGNITO_USER_POOL_ID=us-east-1_Mock12345\n")
      && strcontains(base64decode(aws_launch_template.web.user_data), "\nCOGNITO_CLIENT_ID=mockclient1234567890abcdef\n")
    && strcontains(base64decode(aws_launch_template.web.user_data), "\nCOGNITO_ISSUER=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Mock12345\n"))
    error_message = "The env file gives the web tier the user pool, its app client and the tokens' issuer."
  }
}

run "rejects_an_issuer_of_another_pool" {
  command = plan

  variables {
    cognito_issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other6789"
  }

  expect_failures = [aws_launch_template.web]
}

run "rejects_a_user_pool_id_that_is_not_one" {
  command = plan

  variables {
    cognito_user_pool_id = "order-customers"
  }

  expect_failures = [var.cognito_user_pool_id]
}

# Live order status: each web process subscribes a queue of its own to order-events. The instances are
# told the topic and the queues' prefix, and their role reaches those queues and that topic only.
run "the_instances_are_told_order_events_and_their_queue_prefix" {
  command = apply

  variables {
    name_prefix = "dev-"
  }

  assert {
    condition     = strcontains(base64decode(aws_launch_template.web.user_data), "\nORDER_EVENTS_TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:order-events\n") && strcontains(base64decode(aws_launch_template.web.user_data), "\nEVENT_QUEUE_PREFIX=dev-order-web-events-\n")
    error_message = "The env file gives the web tier ORDER_EVENTS_TOPIC_ARN and EVENT_QUEUE_PREFIX=<prefix>order-web-events-."
  }
  assert {
    condition     = output.event_queue_prefix == "dev-order-web-events-"
    error_message = "The output event_queue_prefix is the prefix the instances are given."
  }
}

run "the_web_role_reaches_only_its_own_event_queues_and_order_events" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_role_policy.web_events.policy).Statement == [
      {
        Sid    = "OwnEventQueues"
        Effect = "Allow"
        Action = [
          "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:TagQueue",
          "sqs:ListQueueTags", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
        ]
        Resource = "arn:aws:sqs:us-east-1:123456789012:order-web-events-*"
      },
      { Sid = "FindEventQueues", Effect = "Allow", Action = "sqs:ListQueues", Resource = "*" },
      {
        Sid       = "SubscribeOwnQueues"
        Effect    = "Allow"
        Action    = "sns:Subscribe"
        Resource  = "arn:aws:sns:us-east-1:123456789012:order-events"
        Condition = { StringEquals = { "sns:Protocol" = "sqs" }, StringLike = { "sns:Endpoint" = "arn:aws:sqs:us-east-1:123456789012:order-web-events-*" } }
      },
      { Sid = "FindSubscriptions", Effect = "Allow", Action = "sns:ListSubscriptionsByTopic", Resource = "arn:aws:sns:us-east-1:123456789012:order-events" },
      { Sid = "UnsubscribeFromTopic", Effect = "Allow", Action = "sns:Unsubscribe", Resource = ["arn:aws:sns:us-east-1:123456789012:order-events", "arn:aws:sns:us-east-1:123456789012:order-events:*"] },
    ] && aws_iam_role_policy.web_events.role == aws_iam_role.web.id
    error_message = "The web role may use queues of its prefix, ListQueues (no resource type), Subscribe order-events to SQS queues of its prefix only, list and remove its subscriptions; nothing else of SQS or SNS."
  }
}

run "rejects_an_order_events_topic_that_is_not_one" {
  command = plan

  variables {
    order_events_topic_arn = "order-events"
  }

  expect_failures = [var.order_events_topic_arn]
}

run "rejects_an_order_events_topic_in_another_region" {
  command = plan

  variables {
    order_events_topic_arn = "arn:aws:sns:eu-west-1:123456789012:order-events"
  }

  expect_failures = [aws_iam_role_policy.web_events]
}

# The small-shop setting (small-shop.tfvars; the rehearsal applies that file itself): one NAT instance
# instead of NAT gateways, one web instance (at most two), no detailed monitoring. Planned.
run "small_shop_has_one_nat_instance_and_no_nat_gateway" {
  command = plan

  variables {
    nat_instance        = true
    instance_type       = "t4g.micro"
    capacity            = { min = 1, desired = 1, max = 2 }
    detailed_monitoring = false
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_eip.nat) == 0 && length(aws_instance.nat) == 1 && length(aws_route_table.private) == 2
    error_message = "nat_instance wins over nat_gateway_per_zone (true by default): no NAT gateway, no NAT Elastic IP, one NAT instance for both zones."
  }
  assert {
    condition = (aws_launch_template.nat[0].image_id == "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
      && aws_launch_template.nat[0].instance_type == "t4g.nano"
      && aws_instance.nat[0].associate_public_ip_address
      && !aws_instance.nat[0].source_dest_check
      && aws_instance.nat[0].tags["Name"] == "order-web-nat"
    && one(aws_instance.nat[0].maintenance_options).auto_recovery == "default")
    error_message = "The NAT instance runs Amazon Linux 2023 for arm64 (resolved at launch) on t4g.nano, with a public address, without the source/destination check, named order-web-nat, with simplified automatic recovery."
  }
  assert {
    condition     = one(aws_launch_template.nat[0].metadata_options).http_tokens == "required" && one(aws_launch_template.nat[0].metadata_options).http_put_response_hop_limit == 1
    error_message = "The NAT instance requires IMDSv2 tokens, one hop."
  }
  assert {
    condition     = one(aws_launch_template.nat[0].block_device_mappings).ebs[0].encrypted == "true" && one(aws_launch_template.nat[0].block_device_mappings).ebs[0].volume_type == "gp3" && one(aws_launch_template.nat[0].block_device_mappings).device_name == "/dev/xvda"
    error_message = "The NAT instance's root volume is encrypted gp3."
  }
  assert {
    condition     = aws_launch_template.nat[0].key_name == null && length(aws_launch_template.nat[0].iam_instance_profile) == 0 && length(aws_launch_template.nat[0].network_interfaces) == 0
    error_message = "The NAT instance's template names no key pair (no SSH) and no role, and leaves its network to the instance."
  }
  assert {
    condition = (strcontains(base64decode(aws_launch_template.nat[0].user_data), "net.ipv4.ip_forward = 1") && strcontains(base64decode(aws_launch_template.nat[0].user_data), "> /etc/sysctl.d/")
      && strcontains(base64decode(aws_launch_template.nat[0].user_data), "systemctl enable --now iptables")
      && strcontains(base64decode(aws_launch_template.nat[0].user_data), "iptables -t nat -A POSTROUTING -o \"$primary\" -s 10.20.0.0/16 -j MASQUERADE")
    && strcontains(base64decode(aws_launch_template.nat[0].user_data), "service iptables save"))
    error_message = "The NAT instance's user data forwards persistently (a sysctl.d file), masquerades the VPC on the primary interface, and saves the rules for the enabled iptables service to restore at boot."
  }
  assert {
    condition = (toset([for rule in aws_vpc_security_group_ingress_rule.nat_from_instances : rule.from_port]) == toset([80, 443])
      && alltrue([for rule in aws_vpc_security_group_ingress_rule.nat_from_instances : rule.from_port == rule.to_port && rule.cidr_ipv4 == null])
    && toset([for rule in aws_vpc_security_group_egress_rule.nat_out : "${rule.from_port}-${rule.to_port} ${rule.cidr_ipv4}"]) == toset(["80-80 0.0.0.0/0", "443-443 0.0.0.0/0"]))
    error_message = "The NAT instance admits 80 and 443 from a security group (the web instances', checked on apply) and nothing else, and goes out on 80 and 443."
  }
  assert {
    condition     = !one(aws_launch_template.web.monitoring).enabled && !one(aws_launch_template.nat[0].monitoring).enabled && !aws_instance.nat[0].monitoring && aws_autoscaling_group.web.min_size == 1 && aws_autoscaling_group.web.max_size == 2 && aws_launch_template.web.instance_type == "t4g.micro"
    error_message = "The small shop runs one t4g.micro (two at most), without detailed monitoring."
  }
}

# The routes and the addresses are known only once applied.
run "small_shop_routes_the_private_subnets_through_the_nat_instance" {
  command = apply
  # A state of its own: the subnets and groups are created here, so the overrides below name them.
  state_key = "small_shop"

  variables {
    nat_instance = true
  }

  override_resource {
    target = aws_subnet.public[0]
    values = { id = "subnet-0aaaaaaaaaaaaaaaa" }
  }
  override_resource {
    target = aws_security_group.nat[0]
    values = { id = "sg-0aaaaaaaaaaaaaaaa" }
  }

  assert {
    condition     = alltrue([for table in aws_route_table.private : one(table.route).network_interface_id == "eni-0123456789abcdef0" && coalesce(one(table.route).nat_gateway_id, "none") == "none" && one(table.route).cidr_block == "0.0.0.0/0"])
    error_message = "Every private subnet's default route goes to the NAT instance's primary network interface, none to a NAT gateway."
  }
  assert {
    condition     = aws_instance.nat[0].subnet_id == "subnet-0aaaaaaaaaaaaaaaa" && aws_instance.nat[0].vpc_security_group_ids == toset(["sg-0aaaaaaaaaaaaaaaa"])
    error_message = "The NAT instance runs in a public subnet, in its own security group."
  }
  assert {
    condition     = alltrue([for rule in aws_vpc_security_group_ingress_rule.nat_from_instances : rule.security_group_id == "sg-0aaaaaaaaaaaaaaaa" && rule.referenced_security_group_id == aws_security_group.instance.id])
    error_message = "The NAT instance admits only the web instances' security group."
  }
  assert {
    condition     = aws_instance.nat[0].key_name == "" && aws_instance.nat[0].iam_instance_profile == ""
    error_message = "The NAT instance has no key pair (no SSH) and no role."
  }
  assert {
    condition     = output.nat_instance_id == "i-0123456789abcdef0" && output.nat_instance_public_ip == "203.0.113.10" && length(output.nat_gateway_public_ips) == 0
    error_message = "The outputs name the NAT instance and its address, and no NAT gateway address."
  }
}

run "rejects_a_nat_instance_type_that_is_not_graviton" {
  command = plan

  variables {
    nat_instance      = true
    nat_instance_type = "t3.nano"
  }

  expect_failures = [var.nat_instance_type]
}
