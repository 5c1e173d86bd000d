locals {
  disk_encryption = var.kms_key_id == null ? "GMEK" : "CMEK"
}

# A Vertex AI Workbench instance: no public IP, root disabled, idle shutdown, its own service
# account, Shielded VM, disks encrypted with the platform key when CMEK is on.
resource "google_workbench_instance" "this" {
  project                    = var.project_id
  name                       = var.name
  location                   = var.zone
  labels                     = var.labels
  instance_owners            = length(var.instance_owners) == 0 ? null : var.instance_owners
  enable_deletion_protection = var.deletion_protection
  deletion_policy            = var.deletion_protection ? "PREVENT" : "DELETE"

  gce_setup {
    machine_type      = var.machine_type
    disable_public_ip = true

    metadata = {
      "notebook-disable-root"  = "true"
      "idle-timeout-seconds"   = tostring(var.idle_shutdown_minutes * 60)
      "serial-port-enable"     = "false"
      "block-project-ssh-keys" = "true"
    }

    service_accounts {
      email = var.service_account_email
    }

    network_interfaces {
      network = var.network_id
      subnet  = var.subnet_id
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_vtpm                 = true
      enable_integrity_monitoring = true
    }

    boot_disk {
      disk_size_gb    = tostring(var.boot_disk_size_gb)
      disk_type       = "PD_BALANCED"
      disk_encryption = local.disk_encryption
      kms_key         = var.kms_key_id
    }

    data_disks {
      disk_size_gb    = tostring(var.data_disk_size_gb)
      disk_type       = "PD_BALANCED"
      disk_encryption = local.disk_encryption
      kms_key         = var.kms_key_id
    }
  }
}

# The people who work on the instance: open JupyterLab, start it after idle shutdown, stop it.
# On this instance only (notebooks.instances.use/start/stop are in no smaller predefined role).
resource "google_workbench_instance_iam_member" "users" {
  for_each = toset(var.users)
  project  = google_workbench_instance.this.project
  location = google_workbench_instance.this.location
  name     = google_workbench_instance.this.name
  role     = "roles/notebooks.editor"
  member   = each.value
}
