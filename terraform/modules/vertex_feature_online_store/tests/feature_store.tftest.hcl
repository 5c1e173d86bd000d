# Plan-only checks: the store is served by Bigtable (the only online serving that accepts a CMEK),
# autoscaling from small defaults, and refuses destroy unless told.
variables {
  project_id = "acme-dev-1a2b"
  region     = "europe-west4"
  name       = "acme_dev_features"
  kms_key_id = "projects/acme-dev-1a2b/locations/europe-west4/keyRings/acme-dev/cryptoKeys/aiplatform"
}

run "bigtable_serving_with_cmek" {
  command = plan

  assert {
    condition     = length(google_vertex_ai_feature_online_store.this.optimized) == 0 && length(google_vertex_ai_feature_online_store.this.bigtable) == 1
    error_message = "Only Bigtable online serving supports encryption using a CMEK: the store must not be Optimized."
  }
  assert {
    condition     = google_vertex_ai_feature_online_store.this.bigtable[0].auto_scaling[0].min_node_count == 1 && google_vertex_ai_feature_online_store.this.bigtable[0].auto_scaling[0].max_node_count == 2
    error_message = "The Bigtable instance autoscales between 1 and 2 nodes by default."
  }
  assert {
    condition     = google_vertex_ai_feature_online_store.this.encryption_spec[0].kms_key_name == var.kms_key_id
    error_message = "The key reaches the store's encryption_spec."
  }
  assert {
    condition     = google_vertex_ai_feature_online_store.this.deletion_policy == "PREVENT"
    error_message = "The store refuses destroy by default."
  }
}

run "more_than_ten_times_the_minimum_is_refused" {
  command = plan

  variables {
    autoscaling = { min_node_count = 1, max_node_count = 11 }
  }

  expect_failures = [var.autoscaling]
}

run "cpu_target_above_80_is_refused" {
  command = plan

  variables {
    autoscaling = { cpu_utilization_target = 90 }
  }

  expect_failures = [var.autoscaling]
}
