# The instances' logs: the CloudWatch agent (installed from the AL2023 repositories by the user data)
# ships the app's JSON lines and pm2's own log here, one stream per instance and file. Made here, not by
# the agent, so that it has a retention and the instances need no logs:CreateLogGroup. Encrypted at
# rest by CloudWatch Logs by default, as the backend's groups are.
resource "aws_cloudwatch_log_group" "web" {
  name              = "/ec2/${local.name}"
  retention_in_days = var.cloudwatch_log_retention_days
}

# The agent's calls for this group and its streams only (no CreateLogGroup, no PutRetentionPolicy:
# the group and its retention are this module's).
resource "aws_iam_role_policy" "web_logs" {
  name = "write-instance-logs"
  role = aws_iam_role.web.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = [aws_cloudwatch_log_group.web.arn, "${aws_cloudwatch_log_group.web.arn}:*"]
    }]
  })
}

# WAF's log of the requests it judged. WAF delivers only to a group whose name starts with
# aws-waf-logs-, and adds the group's resource policy for its delivery itself.
resource "aws_cloudwatch_log_group" "waf" {
  count = var.waf_enabled ? 1 : 0

  name              = "aws-waf-logs-${local.name}"
  retention_in_days = var.cloudwatch_log_retention_days
}

resource "aws_wafv2_web_acl_logging_configuration" "web" {
  count = var.waf_enabled ? 1 : 0

  resource_arn            = aws_wafv2_web_acl.web[0].arn
  log_destination_configs = [aws_cloudwatch_log_group.waf[0].arn]

  # The customers' session cookie, and any credential a client sends, never reach the log.
  redacted_fields {
    single_header {
      name = "cookie"
    }
  }

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }

  redacted_fields {
    single_header {
      name = "x-api-key"
    }
  }
}
