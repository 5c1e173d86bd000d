terraform {
  required_version = ">= 1.9"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 8.7.0, < 9.0.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 8.7.0, < 9.0.0"
    }
    # Repository settings and branch protection (github.tf).
    github = {
      source  = "integrations/github"
      version = "~> 6.13"
    }
  }
}

# Applied once by a person with owner rights (see docs/terraform.md), with their own
# credentials: gcloud auth application-default login.
provider "google" {
  project = var.cicd_project.id
  region  = var.region
}

provider "google-beta" {
  project = var.cicd_project.id
  region  = var.region
}
