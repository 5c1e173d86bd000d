# Your own values for this environment. Terraform reads *.auto.tfvars after terraform.tfvars,
# so a variable set here replaces the generated value there (a whole map for labels; see
# variables.tf for what exists). mlopsgen writes this file once and never touches it again on
# `mlopsgen update`, so template upgrades cannot conflict with it.
#
# notification_email = "ml-oncall@example.com"
