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

# Live order status (frontend/order-events.ts): each web process makes a queue of its own named
# <event_queue_prefix><16 hex digits> (its Policy lets only order-events send, SSE-SQS, a heartbeat
# tag), subscribes it to order-events, receives from it, and at stop unsubscribes and deletes it; every
# few minutes each process also removes the queues of the prefix whose heartbeat went stale (a crashed
# process's) and their subscriptions. Queue names are chosen at start, so the prefix is the narrowest
# resource there is.
#
# Nothing on the backend's side blocks this (terraform-backend/notifications.tf): order-events has no
# topic policy of its own, and in one account IAM alone decides who subscribes. The topic is encrypted
# with the backend's customer-managed key, whose policy lets sns.amazonaws.com use it
# (SnsDeliversFromEncryptedTopics): SNS decrypts as it delivers, so a subscriber needs no KMS grant, and
# SSE-SQS queues use SQS-owned keys that take no key policy. The backend's customer-notifications queue
# (SSE-SQS) is delivered from this topic the same way. Not verified on AWS: moto enforces neither IAM
# nor KMS.
resource "aws_iam_role_policy" "web_events" {
  name = "order-event-queues"
  role = aws_iam_role.web.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # CreateQueue with tags needs TagQueue too. SetQueueAttributes sets the queue's Policy, so these
        # queues' policies are the app's to keep narrow (frontend/order-events.ts: order-events only).
        Sid    = "OwnEventQueues"
        Effect = "Allow"
        Action = [
          "sqs:CreateQueue",
          "sqs:DeleteQueue",
          "sqs:GetQueueAttributes",
          "sqs:SetQueueAttributes",
          "sqs:TagQueue",
          "sqs:ListQueueTags",
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:ChangeMessageVisibility",
        ]
        Resource = local.event_queue_arn_pattern
      },
      {
        # The sweep lists the queues of the prefix (QueueNamePrefix). ListQueues has no resource type:
        # AWS authorizes it against "*" only. It answers queue URLs, nothing of any queue's messages or
        # attributes; everything else about a queue needs the statement above.
        Sid      = "FindEventQueues"
        Effect   = "Allow"
        Action   = "sqs:ListQueues"
        Resource = "*"
      },
      {
        # Only this topic, only to SQS, only to a queue of the prefix.
        Sid      = "SubscribeOwnQueues"
        Effect   = "Allow"
        Action   = "sns:Subscribe"
        Resource = var.order_events_topic_arn
        Condition = {
          StringEquals = { "sns:Protocol" = "sqs" }
          StringLike   = { "sns:Endpoint" = local.event_queue_arn_pattern }
        }
      },
      {
        Sid      = "FindSubscriptions"
        Effect   = "Allow"
        Action   = "sns:ListSubscriptionsByTopic"
        Resource = var.order_events_topic_arn
      },
      {
        # AWS lists the topic as Unsubscribe's resource type, while the request names a subscription
        # (<topic ARN>:<id>): both, and no other topic's. Unsubscribe takes no condition on the endpoint,
        # so nothing narrower exists: this role could also remove the backend's own subscriptions of the
        # topic; the app removes only those whose queue has the prefix.
        Sid      = "UnsubscribeFromTopic"
        Effect   = "Allow"
        Action   = "sns:Unsubscribe"
        Resource = [var.order_events_topic_arn, "${var.order_events_topic_arn}:*"]
      },
    ]
  })

  lifecycle {
    # The queues are made in aws_region and the grants above name it: a topic elsewhere is another
    # deployment's.
    precondition {
      condition     = split(":", var.order_events_topic_arn)[3] == var.aws_region
      error_message = "order_events_topic_arn must be a topic in aws_region (the backend's order_events_topic_arn output, deployed to the same region)."
    }
  }
}
