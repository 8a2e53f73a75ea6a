# Defaults equal platform/settings.ts and platform/functions.ts; test/iac/parity.test.ts compares them.

variable "aws_region" {
  description = "AWS region to deploy the pipeline into."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as us-east-1."
  }
}

variable "name_prefix" {
  description = "Prefix for every resource name, so two stacks can share an account (for example \"dev-\"). Empty for none."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[a-z0-9-]{0,20}$", var.name_prefix))
    error_message = "name_prefix must be at most 20 characters of lower-case letters, digits and hyphens."
  }
}

variable "tags" {
  description = "Extra tags for every resource, merged over Project and ManagedBy."
  type        = map(string)
  default     = {}
}

# --- Names ---

variable "queue_name" {
  description = "Name of the orders queue, before name_prefix."
  type        = string
  default     = "orders"
}

variable "dead_letter_queue_name" {
  description = "Name of the orders dead-letter queue, before name_prefix."
  type        = string
  default     = "orders-dlq"
}

variable "table_name" {
  description = "Name of the DynamoDB orders table, before name_prefix."
  type        = string
  default     = "orders"
}

variable "order_events_topic_name" {
  description = "Name of the SNS topic process-order and the kitchen publish order events to, before name_prefix."
  type        = string
  default     = "order-events"
}

variable "ops_alarms_topic_name" {
  description = "Name of the SNS topic CloudWatch alarms notify, before name_prefix."
  type        = string
  default     = "ops-alarms"
}

variable "dlq_alarm_name" {
  description = "Name of the CloudWatch alarm on messages in the dead-letter queue, before name_prefix."
  type        = string
  default     = "orders-dlq-not-empty"
}

# --- Queues ---

variable "queue_type" {
  description = "Type of the orders queue and its DLQ: standard, or fifo (orders.fifo and orders-dlq.fifo, one message group per customer, so each customer's orders are processed in the order they were received; see the README for the throughput limits). A queue's type cannot change in place: changing it creates new queues, so drain the old ones first (README, Switching queue types)."
  type        = string
  default     = "standard"

  validation {
    condition     = contains(["standard", "fifo"], var.queue_type)
    error_message = "queue_type must be standard or fifo."
  }
}

variable "queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the orders queue, in seconds. AWS advises at least 6 x the process-order timeout for an event source mapping; a precondition enforces it."
  type        = number
  default     = 180

  validation {
    condition     = var.queue_visibility_timeout_seconds >= 0 && var.queue_visibility_timeout_seconds <= 43200 && floor(var.queue_visibility_timeout_seconds) == var.queue_visibility_timeout_seconds
    error_message = "queue_visibility_timeout_seconds must be a whole number from 0 to 43200."
  }
}

variable "queue_message_retention_seconds" {
  description = "How long the orders queue keeps a message, in seconds (default 4 days)."
  type        = number
  default     = 345600

  validation {
    condition     = var.queue_message_retention_seconds >= 60 && var.queue_message_retention_seconds <= 1209600
    error_message = "queue_message_retention_seconds must be from 60 to 1209600."
  }
}

variable "queue_receive_wait_time_seconds" {
  description = "Long-polling wait of the orders queue, in seconds."
  type        = number
  default     = 20

  validation {
    condition     = var.queue_receive_wait_time_seconds >= 0 && var.queue_receive_wait_time_seconds <= 20
    error_message = "queue_receive_wait_time_seconds must be from 0 to 20."
  }
}

variable "max_receive_count" {
  description = "Receives of a message before SQS moves it to the dead-letter queue (redrive maxReceiveCount)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "dead_letter_queue_message_retention_seconds" {
  description = "How long the dead-letter queue keeps a message, in seconds (default and maximum 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_queue_message_retention_seconds >= 60 && var.dead_letter_queue_message_retention_seconds <= 1209600
    error_message = "dead_letter_queue_message_retention_seconds must be from 60 to 1209600."
  }
}

# --- Event source mapping ---

variable "event_source_batch_size" {
  description = "Most messages the event source mapping hands process-order in one batch."
  type        = number
  default     = 10

  validation {
    condition     = var.event_source_batch_size >= 1 && var.event_source_batch_size <= 10000
    error_message = "event_source_batch_size must be from 1 to 10000."
  }
}

variable "event_source_maximum_batching_window_seconds" {
  description = "Longest the event source mapping waits to fill a batch, in seconds. Batches over 10 messages need more than 0. Not used with queue_type = fifo: a FIFO mapping takes no batching window."
  type        = number
  default     = 0

  validation {
    condition     = var.event_source_maximum_batching_window_seconds >= 0 && var.event_source_maximum_batching_window_seconds <= 300
    error_message = "event_source_maximum_batching_window_seconds must be from 0 to 300."
  }
}

variable "event_source_maximum_concurrency" {
  description = "Most concurrent process-order invocations the event source mapping starts (scaling_config.maximum_concurrency)."
  type        = number
  default     = 5

  validation {
    condition     = var.event_source_maximum_concurrency >= 2 && var.event_source_maximum_concurrency <= 1000
    error_message = "event_source_maximum_concurrency must be from 2 to 1000."
  }
}

# --- Lambdas ---

variable "lambda_runtime" {
  description = "Lambda runtime of every function."
  type        = string
  default     = "nodejs22.x"

  validation {
    condition     = can(regex("^nodejs(2[2-9]|[3-9][0-9])\\.x$", var.lambda_runtime))
    error_message = "lambda_runtime must be nodejs22.x or newer (the bundles target Node 22)."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of every function."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_functions" {
  description = "Memory (MB) and timeout (seconds) of functions whose declared values (platform/functions.json) this deployment changes, keyed by the function's name; each field left out keeps the declared value."
  type = map(object({
    memory_mb       = optional(number)
    timeout_seconds = optional(number)
  }))
  default = {}

  validation {
    # Conditionals, not ||: Terraform evaluates both sides of ||, and a comparison with null fails.
    condition     = alltrue([for f in values(var.lambda_functions) : (f.memory_mb == null ? true : f.memory_mb >= 128 && f.memory_mb <= 10240) && (f.timeout_seconds == null ? true : f.timeout_seconds >= 1 && f.timeout_seconds <= 900)])
    error_message = "Each function needs memory_mb from 128 to 10240 and timeout_seconds from 1 to 900."
  }
}

variable "lambda_package_dir" {
  description = "Directory holding one <name>.zip per function of platform/functions.json (npm run build writes them). Null means ../dist/lambdas next to this module."
  type        = string
  default     = null
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SILENT"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT."
  }
}

variable "log_retention_days" {
  description = "Days the CloudWatch log groups keep events: the functions' groups, the API's access and execution logs, and WAF's log (with waf_enabled)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

# --- Table ---

variable "table_deletion_protection" {
  description = "Whether DynamoDB refuses to delete the orders table (and the carts and products tables). Set false only for throwaway stacks."
  type        = bool
  default     = true
}

# --- Customers: accounts, carts and their mail ---

variable "carts_table_name" {
  description = "Name of the DynamoDB carts table (one cart a customer), before name_prefix. table_deletion_protection covers it too."
  type        = string
  default     = "carts"
}

variable "products_table_name" {
  description = "Name of the DynamoDB products table (the shop's menu, one item a product, written by the staff), before name_prefix. table_deletion_protection covers it too."
  type        = string
  default     = "products"
}

variable "cart_ttl_seconds" {
  description = "Seconds a cart nobody touches is kept: every change sets its expires_at this far ahead, and DynamoDB TTL deletes it after that. Given to cart and checkout as CART_TTL_SECONDS (they treat an expired cart as empty before TTL gets to it)."
  type        = number
  default     = 604800

  validation {
    condition     = var.cart_ttl_seconds >= 60 && var.cart_ttl_seconds <= 31536000 && floor(var.cart_ttl_seconds) == var.cart_ttl_seconds
    error_message = "cart_ttl_seconds must be a whole number of seconds from 60 to 31536000 (a year)."
  }
}

variable "customer_mail_from" {
  description = "Address notify-customer sends the customers' order mails from (SES). This module creates its SES email identity; SES mails a verification link to it, and nothing is sent until it is clicked. A new SES account is in the sandbox (mail to verified addresses only) until production access is granted."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.customer_mail_from))
    error_message = "customer_mail_from must be an email address such as orders@shop.example."
  }
}

variable "shop_url" {
  description = "The shop's address (https://shop.example.com, the web tier's), which the customers' order mails link to. Empty: the mails go without a link, until the web tier is deployed and this is set."
  type        = string
  default     = ""

  validation {
    condition     = var.shop_url == "" || can(regex("^https://[^/\\s]+$", var.shop_url))
    error_message = "shop_url must be empty or an https address without a path, such as https://shop.example.com."
  }
}

variable "customer_notifications_queue_name" {
  description = "Name of the queue that takes order-events' customer mail events for notify-customer, before name_prefix."
  type        = string
  default     = "customer-notifications"
}

variable "customer_notifications_dead_letter_queue_name" {
  description = "Name of the customer notifications' dead-letter queue, before name_prefix."
  type        = string
  default     = "customer-notifications-dlq"
}

variable "user_pool_name" {
  description = "Name of the Cognito user pool of the customers' accounts, before name_prefix."
  type        = string
  default     = "order-customers"
}

variable "user_pool_client_name" {
  description = "Name of the web tier's app client of the user pool."
  type        = string
  default     = "web-tier"
}

variable "user_pool_password_policy" {
  description = "Password policy of the customers' accounts."
  type = object({
    minimum_length    = number
    require_lowercase = bool
    require_uppercase = bool
    require_numbers   = bool
    require_symbols   = bool
  })
  default = {
    minimum_length    = 8
    require_lowercase = true
    require_uppercase = true
    require_numbers   = true
    require_symbols   = false
  }

  validation {
    condition     = var.user_pool_password_policy.minimum_length >= 8 && var.user_pool_password_policy.minimum_length <= 99 && floor(var.user_pool_password_policy.minimum_length) == var.user_pool_password_policy.minimum_length
    error_message = "user_pool_password_policy.minimum_length must be a whole number from 8 to 99."
  }
}

variable "user_pool_id_token_validity_minutes" {
  description = "Minutes an ID (and access) token of the web tier's app client is valid; the web tier refreshes it with the refresh token after that."
  type        = number
  default     = 60

  validation {
    condition     = var.user_pool_id_token_validity_minutes >= 5 && var.user_pool_id_token_validity_minutes <= 1440 && floor(var.user_pool_id_token_validity_minutes) == var.user_pool_id_token_validity_minutes
    error_message = "user_pool_id_token_validity_minutes must be a whole number from 5 to 1440."
  }
}

variable "user_pool_refresh_token_validity_days" {
  description = "Days a refresh token of the web tier's app client is valid: how long a customer stays signed in without typing their password."
  type        = number
  default     = 30

  validation {
    condition     = var.user_pool_refresh_token_validity_days >= 1 && var.user_pool_refresh_token_validity_days <= 3650 && floor(var.user_pool_refresh_token_validity_days) == var.user_pool_refresh_token_validity_days
    error_message = "user_pool_refresh_token_validity_days must be a whole number from 1 to 3650."
  }
}

variable "user_pool_deletion_protection" {
  description = "Whether Cognito refuses to delete the user pool (and with it every customer's account). Set false only for throwaway stacks."
  type        = bool
  default     = true
}

variable "user_pool_mail_through_ses" {
  description = "Whether Cognito sends its sign-up and password-reset codes through SES from customer_mail_from (DEVELOPER) rather than with its own sender, whose small daily quota suits trying the shop, not running it. Set true once SES has verified customer_mail_from: Cognito sends from a verified identity only."
  type        = bool
  default     = false
}

variable "user_pool_advanced_security_mode" {
  description = "Cognito threat protection (advanced security) of the user pool: OFF, AUDIT or ENFORCED. AUDIT and ENFORCED put the pool on the Plus feature plan, which is billed per active user."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.user_pool_advanced_security_mode)
    error_message = "user_pool_advanced_security_mode must be OFF, AUDIT or ENFORCED."
  }
}

# --- The order lifecycle and the kitchen ---

variable "order_timings_seconds" {
  description = "Seconds an order stays in each status before the kitchen moves it on (RECEIVED -> PREPARING -> READY -> COMPLETED). Given as JSON in ORDER_TIMINGS to process-order (the first due time) and advance-orders."
  type = object({
    RECEIVED  = number
    PREPARING = number
    READY     = number
  })
  default = { RECEIVED = 60, PREPARING = 600, READY = 300 }

  # The functions refuse anything else at start (domain/lifecycle.ts): fail at plan instead.
  validation {
    condition     = alltrue([for seconds in values(var.order_timings_seconds) : seconds >= 0 && seconds <= 86400 && floor(seconds) == seconds])
    error_message = "Each of order_timings_seconds RECEIVED, PREPARING and READY must be a whole number of seconds from 0 to 86400."
  }
}

variable "kitchen_schedule_expression" {
  description = "EventBridge schedule of the kitchen (advance-orders). Each step of an order takes its time in order_timings_seconds plus up to one period of this schedule."
  type        = string
  default     = "rate(1 minute)"

  validation {
    condition     = can(regex("^(rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)|cron\\([^)]+\\))$", var.kitchen_schedule_expression))
    error_message = "kitchen_schedule_expression must be an EventBridge schedule such as rate(1 minute), rate(5 minutes) or cron(0/2 * * * ? *)."
  }
}

# --- API ---

variable "api_stage_name" {
  description = "Stage of the REST API; the base URL ends with it."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.api_stage_name))
    error_message = "api_stage_name must be 1-128 letters, digits, hyphens or underscores."
  }
}

variable "api_throttle_rate_limit" {
  description = "Steady-state requests per second the usage plan allows the API key."
  type        = number
  default     = 100

  validation {
    condition     = var.api_throttle_rate_limit > 0
    error_message = "api_throttle_rate_limit must be greater than 0."
  }
}

variable "api_throttle_burst_limit" {
  description = "Burst of requests the usage plan allows the API key."
  type        = number
  default     = 200

  validation {
    condition     = var.api_throttle_burst_limit >= 1 && floor(var.api_throttle_burst_limit) == var.api_throttle_burst_limit
    error_message = "api_throttle_burst_limit must be a whole number of at least 1."
  }
}

# --- Alarms and notifications ---

variable "alarm_email" {
  description = "Address that receives ops alarms (the DLQ and queue age alarms, each function's errors and throttles, the API's 5xx rate, and the web tier's alarms). AWS mails a confirmation link first."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an email address such as ops@example.com."
  }
}

variable "order_events_email" {
  description = "Optional address subscribed to the order-events topic; a filter policy passes only order.received, one mail per order. Null for none."
  type        = string
  default     = null

  validation {
    condition     = var.order_events_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", coalesce(var.order_events_email, "-")))
    error_message = "order_events_email must be null or an email address such as orders@example.com."
  }
}

variable "dlq_alarm_threshold" {
  description = "Messages visible in the dead-letter queue at which the DLQ alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.dlq_alarm_threshold >= 1
    error_message = "dlq_alarm_threshold must be at least 1."
  }
}

variable "alarm_period_seconds" {
  description = "Period of every alarm, in seconds: the DLQ and backlog alarms take the metric's Maximum over it, the functions' error and throttle alarms its Sum, the API's 5xx alarm its Average."
  type        = number
  default     = 60

  validation {
    condition     = contains([10, 20, 30], var.alarm_period_seconds) || (var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0)
    error_message = "alarm_period_seconds must be 10, 20, 30 or a multiple of 60."
  }
}

variable "alarm_evaluation_periods" {
  description = "Consecutive breaching periods before an alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_evaluation_periods >= 1 && floor(var.alarm_evaluation_periods) == var.alarm_evaluation_periods
    error_message = "alarm_evaluation_periods must be a whole number of at least 1."
  }
}

variable "queue_age_alarm_threshold_seconds" {
  description = "Age of the oldest message in the orders queue, in seconds, at which the backlog alarm fires."
  type        = number
  default     = 300

  validation {
    condition     = var.queue_age_alarm_threshold_seconds >= 60
    error_message = "queue_age_alarm_threshold_seconds must be at least 60."
  }
}

variable "lambda_error_alarm_threshold" {
  description = "Failed invocations of one function in one alarm period at which its error alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_error_alarm_threshold >= 1
    error_message = "lambda_error_alarm_threshold must be at least 1."
  }
}

variable "lambda_throttle_alarm_threshold" {
  description = "Throttled invocations of one function in one alarm period at which its throttle alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_throttle_alarm_threshold >= 1
    error_message = "lambda_throttle_alarm_threshold must be at least 1."
  }
}

variable "api_5xx_rate_alarm_threshold" {
  description = "Share of API requests answered 5xx in one alarm period (0.05 = 5%) above which the API alarm fires."
  type        = number
  default     = 0.05

  validation {
    condition     = var.api_5xx_rate_alarm_threshold > 0 && var.api_5xx_rate_alarm_threshold < 1
    error_message = "api_5xx_rate_alarm_threshold must be a fraction between 0 and 1."
  }
}

variable "table_throttle_alarm_threshold" {
  description = "Throttled reads and writes of one table (orders or carts) in one alarm period at which its throttle alarm fires. On-demand tables throttle only past double their previous peak or on a hot partition; the SDK retries, but each throttle is a request slowed down."
  type        = number
  default     = 1

  validation {
    condition     = var.table_throttle_alarm_threshold >= 1
    error_message = "table_throttle_alarm_threshold must be at least 1."
  }
}

variable "ses_bounce_rate_alarm_threshold" {
  description = "The account's SES bounce rate (Reputation.BounceRate, 0.02 = 2%) at which the bounce alarm fires. SES reviews an account at 5% and may pause its sending at 10%: the default leaves time to act."
  type        = number
  default     = 0.02

  validation {
    condition     = var.ses_bounce_rate_alarm_threshold > 0 && var.ses_bounce_rate_alarm_threshold < 0.05
    error_message = "ses_bounce_rate_alarm_threshold must be a fraction above 0 and below 0.05 (SES's review threshold)."
  }
}

variable "ses_complaint_rate_alarm_threshold" {
  description = "The account's SES complaint rate (Reputation.ComplaintRate, 0.0005 = 0.05%) at which the complaint alarm fires. SES reviews an account at 0.1% and may pause its sending at 0.5%: the default leaves time to act."
  type        = number
  default     = 0.0005

  validation {
    condition     = var.ses_complaint_rate_alarm_threshold > 0 && var.ses_complaint_rate_alarm_threshold < 0.001
    error_message = "ses_complaint_rate_alarm_threshold must be a fraction above 0 and below 0.001 (SES's review threshold)."
  }
}

variable "kitchen_stopped_alarm_period_seconds" {
  description = "Seconds without any run of the kitchen (advance-orders) after which the kitchen-stopped alarm fires; at least twice the period of kitchen_schedule_expression, so one late run is no alarm. Null: five periods of a rate() schedule (300 s for rate(1 minute)), at most a day; an hour for a cron() one."
  type        = number
  default     = null

  validation {
    condition     = var.kitchen_stopped_alarm_period_seconds == null ? true : var.kitchen_stopped_alarm_period_seconds >= 120 && var.kitchen_stopped_alarm_period_seconds <= 86400 && var.kitchen_stopped_alarm_period_seconds % 60 == 0
    error_message = "kitchen_stopped_alarm_period_seconds must be null or a multiple of 60 from 120 to 86400."
  }
}

variable "customer_notifications_age_alarm_threshold_seconds" {
  description = "Age of the oldest message in the customer notifications queue, in seconds, at which its age alarm fires. The default is an order's READY step (300 s): a mail older than that tells a customer of a status already passed."
  type        = number
  default     = 300

  validation {
    condition     = var.customer_notifications_age_alarm_threshold_seconds >= 60
    error_message = "customer_notifications_age_alarm_threshold_seconds must be at least 60."
  }
}

# --- API logging and WAF ---

variable "api_execution_logging_level" {
  description = "Execution logging of the API stage: ERROR logs failed requests only, INFO every request's steps (more log volume). Request bodies are never logged."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ERROR", "INFO"], var.api_execution_logging_level)
    error_message = "api_execution_logging_level must be ERROR or INFO."
  }
}

variable "api_gateway_cloudwatch_role" {
  description = "Whether this stack sets the account's API Gateway CloudWatch Logs role: one setting per account and region, which API Gateway needs to write any stage's access and execution logs. Off (the default), the stack leaves the setting alone: where the account already has a role, the logs flow; where it has none, API Gateway writes no logs and refuses a stage with logging on (\"CloudWatch Logs role ARN must be set in account settings\"), so set the role once (docs/operations.md) or turn this on. On, it replaces whatever role the account had, for every API in the region; set it true in exactly one stack per account and region. Destroying that stack deletes the role but leaves the account's setting pointing at it, and logging stops until the setting is pointed at another role."
  type        = bool
  default     = false
}

variable "waf_enabled" {
  description = "Whether an AWS WAF web ACL (AWS managed common rule set and a rate limit per IP) protects the API stage."
  type        = bool
  default     = true
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests one client IP may make to the API in any 5 minutes before WAF blocks it. All of the web tier's calls come from its NAT gateways' addresses, so keep it at or above the usage plan's rate x 300."
  type        = number
  default     = 30000

  validation {
    condition     = var.waf_rate_limit_per_5_minutes >= 100 && var.waf_rate_limit_per_5_minutes <= 2000000000 && floor(var.waf_rate_limit_per_5_minutes) == var.waf_rate_limit_per_5_minutes
    error_message = "waf_rate_limit_per_5_minutes must be a whole number from 100 to 2000000000."
  }
}

variable "kms_key_deletion_window_days" {
  description = "Days KMS waits before deleting the notifications key after destroy."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30
    error_message = "kms_key_deletion_window_days must be from 7 to 30."
  }
}
