resource "aws_dynamodb_table" "orders" {
  name         = "${var.name_prefix}${var.table_name}"
  billing_mode = "PAY_PER_REQUEST"
  # The keys belong to the order store (backend-lambdas/lib/order-store.ts, `orderTable`), which
  # every function reads and writes through: they are not settings. The parity test compares them.
  hash_key                    = "order_id"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "order_id"
    type = "S"
  }

  attribute {
    name = "due_shard"
    type = "N"
  }

  attribute {
    name = "due_at"
    type = "S"
  }

  attribute {
    name = "account_id"
    type = "S"
  }

  attribute {
    name = "received_at"
    type = "S"
  }

  # Sparse: only orders that are not final carry due_shard and due_at, so the kitchen's Query reads
  # just the orders it may have to move, never the whole table. It projects what the kitchen needs
  # to write its conditional update without a read of the item.
  global_secondary_index {
    name               = local.due_index_name
    hash_key           = "due_shard"
    range_key          = "due_at"
    projection_type    = "INCLUDE"
    non_key_attributes = ["customer_id", "customer_email", "status", "version", "pending_event"]
  }

  # "My orders": an account's orders newest first, a page at a time, by one Query (my-orders). It
  # projects what the list shows, so a page needs no read of the table. Sparse: orders placed with the
  # API key have no account_id, whatever customer_id they name (docs/data-model.md, ownership).
  global_secondary_index {
    name               = local.account_index_name
    hash_key           = "account_id"
    range_key          = "received_at"
    projection_type    = "INCLUDE"
    non_key_attributes = ["status", "version", "lines", "total_cents", "currency", "order_date", "status_history"]
  }

  point_in_time_recovery {
    enabled = true
  }

  # KMS encryption with the AWS-managed aws/dynamodb key: nothing for the Lambda roles to be granted.
  server_side_encryption {
    enabled = true
  }

  # Every order ever taken. Deletion protection is a flag a teardown lifts; this refuses any plan that
  # would destroy the table (a destroy, or a change that replaces it) until it is removed on purpose
  # (docs/deploy-terraform.md, Tearing down).
  lifecycle {
    prevent_destroy = true
  }
}
