variable "project_id" {
  description = "Project that holds the endpoint."
  type        = string
}

variable "region" {
  description = "Vertex AI region."
  type        = string
}

variable "name" {
  description = "Endpoint id: a lowercase letter then up to 62 lowercase letters, digits or hyphens, or a number of at most 9 digits without leading zeros."
  type        = string
  validation {
    condition     = can(regex("^([a-z]([-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,8})$", var.name))
    error_message = "name must be a lowercase letter followed by lowercase letters, digits or hyphens (at most 63), or a number of at most 9 digits without leading zeros."
  }
}

variable "display_name" {
  description = "Display name (at most 128 characters)."
  type        = string
  validation {
    condition     = length(var.display_name) >= 1 && length(var.display_name) <= 128
    error_message = "display_name must be 1-128 characters."
  }
}

variable "description" {
  description = "What the endpoint serves."
  type        = string
  default     = null
}

variable "labels" {
  description = "Labels set on the endpoint."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "kms_key_id" {
  description = "Cloud KMS key id for CMEK; null for Google-managed keys. The Vertex AI service agent needs encrypt/decrypt on it first."
  type        = string
  default     = null
}

variable "request_response_logging" {
  description = "Log a sample of prediction requests and responses to BigQuery (model monitoring reads them): {sampling_rate, bigquery_table_uri} with a bq://project.dataset.table URI, or null to turn logging off."
  type = object({
    sampling_rate      = number
    bigquery_table_uri = string
  })
  default = null
  validation {
    condition     = var.request_response_logging == null || try(var.request_response_logging.sampling_rate > 0 && var.request_response_logging.sampling_rate <= 1 && startswith(var.request_response_logging.bigquery_table_uri, "bq://"), false)
    error_message = "request_response_logging needs 0 < sampling_rate <= 1 and a bq:// table URI."
  }
}
