resource "aws_iam_role" "web" {
  name = "${local.name}-instance"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

# Session Manager instead of SSH.
resource "aws_iam_role_policy_attachment" "web_ssm_core" {
  role       = aws_iam_role.web.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
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
  name = "${local.name}-instance"
  role = aws_iam_role.web.name
}
