# One Cloud Monitoring dashboard per environment, and the serving SLO policies.
#
# Metric types are Google's (https://cloud.google.com/monitoring/api/metrics_gcp_a_b, list
# generated 2026-04-10), never invented:
# - aiplatform.googleapis.com/prediction/online/prediction_latencies  DELTA DISTRIBUTION ms,
#   resource aiplatform.googleapis.com/Endpoint, label latency_type ("total" always populated)
# - aiplatform.googleapis.com/prediction/online/response_count  DELTA INT64, label response_code
#   (1xx .. 5xx)
# - aiplatform.googleapis.com/prediction/online/replicas  GAUGE INT64, label deployed_model_id
# - aiplatform.googleapis.com/pipelinejob/duration  GAUGE INT64 s, resource
#   aiplatform.googleapis.com/PipelineJob
# - bigquery.googleapis.com/storage/uploaded_row_count  DELTA INT64 and storage/stored_bytes
#   GAUGE INT64 By, resource bigquery_dataset
# The endpoint's metrics all carry the metric label endpoint_display_name, which is known when
# planning (the endpoint's numeric id is not), so the dashboard's JSON is in the plan and
# `mlopsgen validate` checks it against the Monitoring API's v1 Dashboard schema.
# Failed pipeline runs have no Google metric: a log-based counter of this module counts them.

locals {
  online = var.endpoint_display_name != null
  prefix = "${var.display_name}:"

  endpoint_filter = local.online ? join(" AND ", [
    "resource.type=\"aiplatform.googleapis.com/Endpoint\"",
    "metric.labels.endpoint_display_name=\"${var.endpoint_display_name}\"",
  ]) : ""
  latency_filter   = "metric.type=\"aiplatform.googleapis.com/prediction/online/prediction_latencies\" AND ${local.endpoint_filter} AND metric.labels.latency_type=\"total\""
  responses_filter = "metric.type=\"aiplatform.googleapis.com/prediction/online/response_count\" AND ${local.endpoint_filter}"
  errors_filter    = "${local.responses_filter} AND metric.labels.response_code=monitoring.regex.full_match(\"5.*\")"
  replicas_filter  = "metric.type=\"aiplatform.googleapis.com/prediction/online/replicas\" AND ${local.endpoint_filter}"

  pipeline_failures_metric = "${var.environment}-pipeline-failures"
  failures_filter          = "metric.type=\"logging.googleapis.com/user/${local.pipeline_failures_metric}\" AND resource.type=\"aiplatform.googleapis.com/PipelineJob\""
  duration_filter          = "metric.type=\"aiplatform.googleapis.com/pipelinejob/duration\" AND resource.type=\"aiplatform.googleapis.com/PipelineJob\""
  dataset_filter           = "resource.type=\"bigquery_dataset\" AND resource.labels.dataset_id=\"${var.predictions_dataset}\""

  minute = { alignmentPeriod = "60s" }
  hour   = { alignmentPeriod = "3600s" }

  latency_sets = [for p in ["50", "95", "99"] : {
    plotType       = "LINE"
    legendTemplate = "p${p}"
    timeSeriesQuery = {
      unitOverride = "ms"
      timeSeriesFilter = {
        filter      = local.latency_filter
        aggregation = merge(local.minute, { perSeriesAligner = "ALIGN_PERCENTILE_${p}", crossSeriesReducer = "REDUCE_MAX", groupByFields = [] })
      }
    }
  }]

  # Charts of one time series filter each: title, plot type, filter, aggregation, y-axis label.
  endpoint_charts = [
    ["Requests per second, by response code", "STACKED_AREA", local.responses_filter,
    merge(local.minute, { perSeriesAligner = "ALIGN_RATE", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.label.response_code"] }), "requests/s"],
    ["Replicas, by deployed model", "LINE", local.replicas_filter,
    merge(local.minute, { perSeriesAligner = "ALIGN_MEAN", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.label.deployed_model_id"] }), "replicas"],
  ]
  pipeline_charts = [
    ["Pipeline run duration (s)", "LINE", local.duration_filter,
    merge(local.minute, { perSeriesAligner = "ALIGN_MAX", crossSeriesReducer = "REDUCE_MAX", groupByFields = ["resource.label.pipeline_job_id"] }), "s"],
    ["Failed pipeline runs (per hour)", "STACKED_BAR", local.failures_filter,
    merge(local.hour, { perSeriesAligner = "ALIGN_SUM", crossSeriesReducer = "REDUCE_SUM", groupByFields = [] }), "runs"],
    ["Batch prediction volume: rows loaded into ${var.predictions_dataset} (per hour)", "STACKED_BAR",
      "metric.type=\"bigquery.googleapis.com/storage/uploaded_row_count\" AND ${local.dataset_filter}",
    merge(local.hour, { perSeriesAligner = "ALIGN_SUM", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.label.table"] }), "rows"],
    ["Batch predictions stored in ${var.predictions_dataset} (bytes)", "LINE",
      "metric.type=\"bigquery.googleapis.com/storage/stored_bytes\" AND ${local.dataset_filter}",
    merge(local.hour, { perSeriesAligner = "ALIGN_MEAN", crossSeriesReducer = "REDUCE_SUM", groupByFields = [] }), "bytes"],
  ]
  chart = { for c in concat(local.endpoint_charts, local.pipeline_charts) : c[0] => {
    title = c[0]
    xyChart = {
      dataSets = [{ plotType = c[1], timeSeriesQuery = { timeSeriesFilter = { filter = c[2], aggregation = c[3] } } }]
      yAxis    = { label = c[4], scale = "LINEAR" }
    }
  } }

  # every panel of the endpoint, shown only with one (a conditional needs one type on both sides)
  endpoint_widgets = [
    {
      title = "Online prediction latency (ms): p50, p95, p99"
      xyChart = {
        dataSets   = local.latency_sets
        yAxis      = { label = "ms", scale = "LINEAR" }
        thresholds = [{ value = var.slo.latency_p99_ms, label = "p99 SLO", color = "RED", direction = "ABOVE" }]
      }
    },
    local.chart[local.endpoint_charts[0][0]],
    {
      title = "Error rate (5xx share of responses)"
      xyChart = {
        dataSets = [{
          plotType = "LINE"
          timeSeriesQuery = {
            timeSeriesFilterRatio = {
              numerator   = { filter = local.errors_filter, aggregation = merge(local.minute, { perSeriesAligner = "ALIGN_RATE", crossSeriesReducer = "REDUCE_SUM" }) }
              denominator = { filter = local.responses_filter, aggregation = merge(local.minute, { perSeriesAligner = "ALIGN_RATE", crossSeriesReducer = "REDUCE_SUM" }) }
            }
          }
        }]
        yAxis      = { label = "share", scale = "LINEAR" }
        thresholds = [{ value = var.slo.error_rate, label = "error-rate SLO", color = "RED", direction = "ABOVE" }]
      }
    },
    local.chart[local.endpoint_charts[1][0]],
  ]
  online_widgets   = [for w in local.endpoint_widgets : w if local.online]
  pipeline_widgets = [for c in local.pipeline_charts : local.chart[c[0]]]

  widgets = concat(local.online_widgets, local.pipeline_widgets)

  # 48-column mosaic, two tiles a row
  dashboard = {
    displayName = "${local.prefix} ${local.online ? "serving and pipelines" : "pipelines and batch predictions"}"
    labels      = var.labels
    mosaicLayout = {
      columns = 48
      tiles = [for i, w in local.widgets : {
        xPos   = (i % 2) * 24
        yPos   = floor(i / 2) * 16
        width  = 24
        height = 16
        widget = w
      }]
    }
  }

  endpoint_policies = {
    latency_p99 = {
      display_name = "${local.prefix} online prediction p99 latency above ${var.slo.latency_p99_ms} ms"
      filter       = local.latency_filter
      aligner      = "ALIGN_PERCENTILE_99"
      reducer      = "REDUCE_MAX"
      threshold    = var.slo.latency_p99_ms
      denominator  = null
      documentation = join(" ", [
        "The p99 of the endpoint's total online prediction latency stayed above ${var.slo.latency_p99_ms} ms for ${var.slo.window}.",
        "Check the replicas panel of the dashboard (scaling at its maximum?) and the latest deployment; the threshold is slo.latency_p99_ms of the serving_dashboard module (answer slo_latency_p99_ms).",
      ])
    }
    error_rate = {
      display_name = "${local.prefix} online prediction error rate above ${var.slo.error_rate * 100} %"
      filter       = local.errors_filter
      aligner      = "ALIGN_RATE"
      reducer      = "REDUCE_SUM"
      threshold    = var.slo.error_rate
      denominator  = local.responses_filter
      documentation = join(" ", [
        "More than ${var.slo.error_rate * 100} % of the endpoint's responses had a 5xx code for ${var.slo.window}.",
        "Read the endpoint's logs and the latest deployment; roll back if it came with the new model. The threshold is slo.error_rate (answer slo_error_rate_percent).",
      ])
    }
  }
  slo_policies = { for k, p in local.endpoint_policies : k => p if local.online }
}

# Failed pipeline runs, counted from the PipelineJob logs (the same entries the pipeline-failed
# log alert matches).
resource "google_logging_metric" "pipeline_failures" {
  project     = var.project_id
  name        = local.pipeline_failures_metric
  description = "Failed Vertex AI pipeline runs (${var.display_name})."
  filter      = "resource.type=\"aiplatform.googleapis.com/PipelineJob\" AND jsonPayload.state=\"PIPELINE_STATE_FAILED\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

resource "google_monitoring_dashboard" "this" {
  project        = var.project_id
  dashboard_json = jsonencode(local.dashboard)

  # the failures panel reads the log-based metric
  depends_on = [google_logging_metric.pipeline_failures]
}

resource "google_monitoring_alert_policy" "slo" {
  for_each              = local.slo_policies
  project               = var.project_id
  display_name          = each.value.display_name
  combiner              = "OR"
  severity              = "ERROR"
  user_labels           = var.labels
  notification_channels = var.notification_channels

  conditions {
    display_name = each.value.display_name
    condition_threshold {
      filter             = each.value.filter
      comparison         = "COMPARISON_GT"
      threshold_value    = each.value.threshold
      duration           = var.slo.window
      denominator_filter = each.value.denominator

      trigger {
        count = 1
      }

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = each.value.aligner
        cross_series_reducer = each.value.reducer
      }

      dynamic "denominator_aggregations" {
        for_each = each.value.denominator == null ? [] : [1]
        content {
          alignment_period     = "60s"
          per_series_aligner   = "ALIGN_RATE"
          cross_series_reducer = "REDUCE_SUM"
        }
      }
    }
  }

  alert_strategy {
    auto_close = var.auto_close
  }

  documentation {
    content   = each.value.documentation
    mime_type = "text/markdown"
  }
}
