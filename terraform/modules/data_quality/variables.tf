variable "project_id" {
  description = "Project that holds the scan and the scanned table."
  type        = string
}

variable "location" {
  description = "Region of the scan (the region of the table's dataset)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.location))
    error_message = "location must be a region such as europe-west4 (Dataplex scans are regional)."
  }
}

variable "scan_id" {
  description = "Dataplex data scan id (lowercase letters, digits and hyphens, starting with a letter, at most 63)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.scan_id))
    error_message = "scan_id must be 1-63 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "display_name" {
  description = "Display name of the scan in the console and the catalog."
  type        = string
}

variable "description" {
  description = "Description of the scan: what it checks and who runs it."
  type        = string
  default     = ""
  nullable    = false
}

variable "dataset_id" {
  description = "BigQuery dataset of the scanned table (in project_id). The Dataplex service agent gets roles/bigquery.dataViewer on it."
  type        = string
}

variable "table_id" {
  description = "The scanned table in dataset_id."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_]+$", var.table_id)) && length(var.table_id) <= 1024
    error_message = "table_id must be a BigQuery table id (at most 1024 letters, digits, underscores)."
  }
}

variable "rules" {
  description = "The checks: min_rows (the table has at least this many rows), not_null (column => share of rows, 0 < share <= 1, that must have a value) and ranges (column => {min, max: inclusive bounds, null = unbounded; threshold: share of non-null values inside, default 1}). In a rendered repo: config/<env>.yaml's quality section, the one the pipeline's gate checks the scan against (pipelines/quality.py builds the same rules)."
  type = object({
    min_rows = number
    not_null = optional(map(number), {})
    ranges = optional(map(object({
      min       = optional(number)
      max       = optional(number)
      threshold = optional(number, 1)
    })), {})
  })
  nullable = false
  validation {
    condition     = var.rules.min_rows >= 1 && floor(var.rules.min_rows) == var.rules.min_rows
    error_message = "rules.min_rows must be a whole number of at least 1."
  }
  validation {
    condition     = alltrue([for t in concat(values(var.rules.not_null), [for r in values(var.rules.ranges) : r.threshold]) : t > 0 && t <= 1])
    error_message = "Every not_null share and range threshold must be > 0 and <= 1."
  }
  validation {
    condition     = alltrue([for r in values(var.rules.ranges) : (r.min != null || r.max != null) && (r.min == null || r.max == null || try(r.min <= r.max, false))])
    error_message = "Every range needs min, max or both, with min <= max."
  }
}

variable "runners" {
  description = "Who runs the scan and reads its results, as {key => member} (e.g. the pipeline service account): roles/dataplex.dataScanEditor on this scan only (dataScans.run is in no narrower predefined role). Keys must be known at plan time."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "notification_emails" {
  description = "Who Dataplex emails a scan report to when a scan job fails or scores below 100 (a rule failed). Empty sends none."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "labels" {
  description = "Labels set on the scan."
  type        = map(string)
  default     = {}
  nullable    = false
}
