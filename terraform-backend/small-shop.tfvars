# The small-shop setting of the backend, with terraform-frontend/small-shop.tfvars (docs/operations.md,
# "What a default deployment costs a month"). Given beside the usual variables:
#   terraform apply -var-file=small-shop.tfvars -var alarm_email=... -var customer_mail_from=...

# No WAF web ACL on the API stage ($7 a month with its two rules). The stage is still reached only
# with the web tier's API key, throttled by its usage plan (api_throttle_rate_limit), and the
# customers' routes need their Cognito token; the load balancer's web ACL still filters the browsers.
waf_enabled = false
