output "key_ring_id" {
  description = "Key ring id."
  value       = google_kms_key_ring.this.id
}

output "key_ids" {
  description = "Key ids by key name. They depend on the encrypter grants, so a resource using a key waits until its service agent may use it."
  # The id as the API forms it, from the names it is made of: a plan then shows which key each
  # grant and store uses (the reference to each key keeps the dependency on it).
  value      = { for k, v in google_kms_crypto_key.this : k => "projects/${google_kms_key_ring.this.project}/locations/${google_kms_key_ring.this.location}/keyRings/${google_kms_key_ring.this.name}/cryptoKeys/${v.name}" }
  depends_on = [google_kms_crypto_key_iam_member.encrypters]
}
