# The load balancer's access logs: encrypted with SSE-S3 (the only encryption ALB log delivery
# supports), private, TLS only, kept log_retention_days.
resource "aws_s3_bucket" "access_logs" {
  bucket_prefix = "${local.name}-alb-logs-"
  force_destroy = var.access_log_bucket_force_destroy
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.log_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# Who writes the logs depends on the region: in those opened before August 2022 (and in GovCloud and
# China), Elastic Load Balancing's own account for the region; in every later one (eu-central-2,
# il-central-1, ap-southeast-5 ...), the log delivery service principal. The accounts are AWS's list in
# "Enable access logs for your Application Load Balancer", step 2 (Attach a policy to your S3 bucket):
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html.
# A list here rather than data "aws_elb_service_account", which fails the plan in a region it does not
# know, and new regions all take the principal.
locals {
  elb_log_delivery_accounts = {
    "us-east-1"      = "127311923021"
    "us-east-2"      = "033677994240"
    "us-west-1"      = "027434742980"
    "us-west-2"      = "797873946194"
    "af-south-1"     = "098369216593"
    "ap-east-1"      = "754344448648"
    "ap-south-1"     = "718504428378"
    "ap-northeast-1" = "582318560864"
    "ap-northeast-2" = "600734575887"
    "ap-northeast-3" = "383597477331"
    "ap-southeast-1" = "114774131450"
    "ap-southeast-2" = "783225319266"
    "ap-southeast-3" = "589379963580"
    "ca-central-1"   = "985666609251"
    "eu-central-1"   = "054676820928"
    "eu-west-1"      = "156460612806"
    "eu-west-2"      = "652711504416"
    "eu-west-3"      = "009996457667"
    "eu-south-1"     = "635631232127"
    "eu-north-1"     = "897822967062"
    "me-south-1"     = "076674570225"
    "sa-east-1"      = "507241528517"
    "us-gov-west-1"  = "048591011584"
    "us-gov-east-1"  = "190560391635"
    "cn-north-1"     = "638102146993"
    "cn-northwest-1" = "037604701340"
  }
  # A map either way, so that both branches have one type.
  access_log_writer = (contains(keys(local.elb_log_delivery_accounts), var.aws_region)
    ? tomap({ AWS = "arn:${local.partition}:iam::${local.elb_log_delivery_accounts[var.aws_region]}:root" })
    : tomap({ Service = "logdelivery.elasticloadbalancing.amazonaws.com" })
  )
}

resource "aws_s3_bucket_policy" "access_logs" {
  depends_on = [aws_s3_bucket_public_access_block.access_logs]

  bucket = aws_s3_bucket.access_logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LoadBalancerWritesAccessLogs"
        Effect    = "Allow"
        Principal = local.access_log_writer
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.access_logs.arn}/${local.access_log_prefix}/AWSLogs/${local.account_id}/*"
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}
