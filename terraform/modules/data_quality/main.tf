locals {
  # The rules in one list, in the order (and with the names and texts) pipelines/quality.py's
  # rules() builds them: the pipeline's gate compares the scan's rules with its own.
  rules = concat(
    [{
      name        = "row-count"
      dimension   = "VOLUME"
      column      = null
      threshold   = null
      ignore_null = null
      description = "At least ${var.rules.min_rows} rows."
      condition   = "COUNT(*) >= ${var.rules.min_rows}"
      not_null    = false
      range       = null
    }],
    [for column in sort(keys(var.rules.not_null)) : {
      name        = "not-null-${replace(column, "_", "-")}"
      dimension   = "COMPLETENESS"
      column      = column
      threshold   = var.rules.not_null[column]
      ignore_null = null
      description = "Rows with a ${column}: passes at a share of ${var.rules.not_null[column]} or more."
      condition   = null
      not_null    = true
      range       = null
    }],
    [for column in sort(keys(var.rules.ranges)) : {
      name        = "range-${replace(column, "_", "-")}"
      dimension   = "VALIDITY"
      column      = column
      threshold   = var.rules.ranges[column].threshold
      ignore_null = true
      description = "Non-null ${column} in [${coalesce(try(tostring(var.rules.ranges[column].min), null), "-inf")}, ${coalesce(try(tostring(var.rules.ranges[column].max), null), "inf")}]: passes at a share of ${var.rules.ranges[column].threshold} or more."
      condition   = null
      not_null    = false
      range       = var.rules.ranges[column]
    }],
  )
}

# Dataplex runs the scan as its service agent: it reads the table and runs BigQuery jobs in
# this project (https://cloud.google.com/dataplex/docs/use-auto-data-quality#required-roles).
resource "google_project_service_identity" "dataplex" {
  provider = google-beta
  project  = var.project_id
  service  = "dataplex.googleapis.com"
}

resource "google_bigquery_dataset_iam_member" "agent_reads" {
  project    = var.project_id
  dataset_id = var.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = google_project_service_identity.dataplex.member
}

resource "google_project_iam_member" "agent_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = google_project_service_identity.dataplex.member
}

resource "google_dataplex_datascan" "this" {
  project      = var.project_id
  location     = var.location
  data_scan_id = var.scan_id
  display_name = var.display_name
  description  = var.description
  labels       = var.labels

  data {
    resource = "//bigquery.googleapis.com/projects/${var.project_id}/datasets/${var.dataset_id}/tables/${var.table_id}"
  }

  # run on demand: by the pipeline before it trains (dataScans.run)
  execution_spec {
    trigger {
      on_demand {}
    }
  }

  data_quality_spec {
    dynamic "rules" {
      for_each = local.rules
      content {
        name        = rules.value.name
        dimension   = rules.value.dimension
        column      = rules.value.column
        threshold   = rules.value.threshold
        ignore_null = rules.value.ignore_null
        description = rules.value.description

        dynamic "table_condition_expectation" {
          for_each = rules.value.condition == null ? [] : [rules.value.condition]
          content {
            sql_expression = table_condition_expectation.value
          }
        }
        dynamic "non_null_expectation" {
          for_each = rules.value.not_null ? [true] : []
          content {}
        }
        dynamic "range_expectation" {
          for_each = rules.value.range == null ? [] : [rules.value.range]
          content {
            min_value = try(tostring(range_expectation.value.min), null)
            max_value = try(tostring(range_expectation.value.max), null)
          }
        }
      }
    }

    dynamic "post_scan_actions" {
      for_each = length(var.notification_emails) == 0 ? [] : [var.notification_emails]
      content {
        notification_report {
          recipients {
            emails = post_scan_actions.value
          }
          score_threshold_trigger {
            score_threshold = 100
          }
          job_failure_trigger {}
        }
      }
    }
  }

  # the agent may read the table before the first run
  depends_on = [google_bigquery_dataset_iam_member.agent_reads, google_project_iam_member.agent_jobs]
}

resource "google_dataplex_datascan_iam_member" "runners" {
  for_each     = var.runners
  project      = var.project_id
  location     = var.location
  data_scan_id = google_dataplex_datascan.this.data_scan_id
  role         = "roles/dataplex.dataScanEditor"
  member       = each.value
}
