# The small-shop setting of the web tier: about $45 a month before traffic with the backend's
# small-shop.tfvars (docs/operations.md, "What a default deployment costs a month", item by item),
# against about $148 for the defaults. Given beside the usual variables (docs/deploy-terraform.md):
#   terraform apply -var-file=small-shop.tfvars -var "api_base_url=..." ...
# What it gives up is written beside its figures there; in short, one zone carries the shop.

# One NAT instance in the first zone instead of a NAT gateway a zone: no gateway, no NAT Elastic IP.
nat_instance      = true
nat_instance_type = "t4g.nano"

# One instance, a second only while target tracking or an instance refresh needs it; 1 GiB of memory
# (the web tier's two pm2 workers take about 130 MB each at full load, ecosystem.config.cjs).
instance_type = "t4g.micro"
capacity = {
  min     = 1
  desired = 1
  max     = 2
}

# EC2's free five-minute metrics instead of one-minute ones.
detailed_monitoring = false

# No WAF web ACL on the load balancer ($7 a month with its two rules; the backend's drops the API
# stage's). The web tier's own per-client rate limits stay; AWS's managed rules and the per-address
# rate rule at the edge go. Delete this line to keep them: about $52 a month.
waf_enabled = false

# Kept as by default: HTTPS, private instances, the load balancer's access logs, the alarms and the logs.
