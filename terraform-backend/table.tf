resource "aws_dynamodb_table" "orders" {
  name                        = "${var.name_prefix}${var.table_name}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = var.table_partition_key
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = var.table_partition_key
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  # KMS encryption with the AWS-managed aws/dynamodb key: nothing for the Lambda roles to be granted.
  server_side_encryption {
    enabled = true
  }
}
