"""Cloud Monitoring dashboards checked offline against the Monitoring API v1 ``Dashboard``.

``dashboard_schema.json`` is generated from Google's discovery document by
``tools/refresh_monitoring_schema.py`` (provenance in the file and in PROVENANCE.md);
``dashboard.py`` checks a dashboard's JSON against it and finds the dashboards in plans.
"""

from generator.monitoring.dashboard import (
    DashboardFinding,
    check_dashboard,
    check_plans,
    dashboards_in_plan,
)

__all__ = ["DashboardFinding", "check_dashboard", "check_plans", "dashboards_in_plan"]
