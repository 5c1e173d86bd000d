"""Inventory-forecasting ML workload: the Vertex AI pipeline, its components and entry points.

Every project, region, bucket, dataset, service account and repository comes from
`config/<env>.yaml` (rendered from the platform answers); nothing here names a resource.
"""
