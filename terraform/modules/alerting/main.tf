resource "google_monitoring_notification_channel" "email" {
  project      = var.project_id
  display_name = var.channel_display_name
  type         = "email"
  user_labels  = var.labels
  labels = {
    email_address = var.notification_email
  }
}

resource "google_monitoring_alert_policy" "log" {
  for_each              = var.log_alerts
  project               = var.project_id
  display_name          = each.value.display_name
  combiner              = "OR"
  severity              = each.value.severity
  user_labels           = var.labels
  notification_channels = concat([google_monitoring_notification_channel.email.id], lookup(var.log_alert_channels, each.key, []))

  conditions {
    display_name = each.value.display_name
    condition_matched_log {
      filter = each.value.filter
    }
  }

  alert_strategy {
    auto_close = var.auto_close
    notification_rate_limit {
      period = var.notification_rate_limit
    }
  }

  documentation {
    content   = each.value.documentation
    mime_type = "text/markdown"
  }
}
