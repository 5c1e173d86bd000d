output "key_ring_id" {
  description = "Key ring id."
  value       = google_kms_key_ring.this.id
}

output "key_ids" {
  description = "Key ids by key name. They depend on the encrypter grants, so a resource using a key waits until its service agent may use it."
  value       = { for k, v in google_kms_crypto_key.this : k => v.id }
  depends_on  = [google_kms_crypto_key_iam_member.encrypters]
}
