# IAM names are global to the account: the region in them lets one prefix deploy to two regions.
resource "aws_iam_role" "web" {
  name = "${local.name}-instance-${var.aws_region}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  # A new name replaces the role and its profile: the new ones first, as instances are launched with them.
  lifecycle {
    create_before_destroy = true
  }
}

# Session Manager instead of SSH: the agent's own calls and nothing more. (AmazonSSMManagedInstanceCore
# would also grant ssm:GetParameter and GetParameters on every parameter in the account.)
resource "aws_iam_role_policy" "web_session_manager" {
  name = "session-manager-agent"
  role = aws_iam_role.web.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Action = [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ]
      # These actions take no resource-level permissions: "*" is the only form AWS accepts.
      Resource = "*"
    }]
  })
}

# The artifact object and the key parameter, nothing else. No kms:Decrypt: the parameter uses the
# AWS-managed aws/ssm key, whose key policy already lets the account's principals decrypt through
# SSM (kms:ViaService); GetParameter on this parameter is the only gate.
resource "aws_iam_role_policy" "web" {
  name = "read-artifact-and-api-key"
  role = aws_iam_role.web.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "${aws_s3_bucket.artifacts.arn}/${aws_s3_object.web_artifact.key}"
      },
      {
        Effect   = "Allow"
        Action   = "ssm:GetParameter"
        Resource = local.api_key_parameter_arn
      },
    ]
  })
}

resource "aws_iam_instance_profile" "web" {
  name = "${local.name}-instance-${var.aws_region}"
  role = aws_iam_role.web.name

  lifecycle {
    create_before_destroy = true
  }
}
