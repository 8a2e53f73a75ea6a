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
