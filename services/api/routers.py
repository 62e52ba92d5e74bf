"""Every router of the API, in one place: what the API exposes takes one read."""

from fastapi import APIRouter

from services.api.agents.router import router as agents_router
from services.api.assignments.router import router as assignments_router
from services.api.audit.router import router as audit_router
from services.api.blocklist.router import router as blocklist_router
from services.api.consent.router import router as consent_router
from services.api.corrections.router import router as corrections_router
from services.api.custom_fields.router import router as custom_fields_router
from services.api.customer_details.router import router as customer_details_router
from services.api.customers.router import router as customers_router
from services.api.dashboard.router import router as dashboard_router
from services.api.dialer.router import router as dialer_router
from services.api.flows.router import router as flows_router
from services.api.followups.router import router as followups_router
from services.api.health.router import router as health_router
from services.api.live.router import router as live_router
from services.api.metrics.router import router as metrics_router
from services.api.moves.router import router as moves_router
from services.api.my_work.router import router as my_work_router
from services.api.pipeline.router import router as pipeline_router
from services.api.privacy.router import router as privacy_router
from services.api.regional.router import router as regional_router
from services.api.registers.router import router as registers_router
from services.api.report_flags.router import router as report_flags_router
from services.api.reports.router import router as reports_router
from services.api.search.router import router as search_router
from services.api.selections.router import router as selections_router
from services.api.users.router import router as users_router
from services.api.webhooks.router import router as webhooks_router
from services.api.work.router import router as work_router

# The agent's work (next, outcomes, ...) is included first and at the top level: FastAPI
# matches routes level by level, in order, on every request.
hot_router = work_router

ops_router = APIRouter()
ops_router.include_router(health_router)
ops_router.include_router(metrics_router)
# The supervisors' pages in the browser, outside /v1 (a cookie session, not a bearer token).
ops_router.include_router(dashboard_router)

api_router = APIRouter()
api_router.include_router(users_router)
api_router.include_router(flows_router)
api_router.include_router(assignments_router)
api_router.include_router(custom_fields_router)
api_router.include_router(blocklist_router)
api_router.include_router(registers_router)
api_router.include_router(consent_router)
api_router.include_router(customers_router)
api_router.include_router(my_work_router)
api_router.include_router(followups_router)
api_router.include_router(moves_router)
api_router.include_router(selections_router)
api_router.include_router(live_router)
# Search before details: GET /customers/search must not be read as /customers/{customer_id}.
api_router.include_router(search_router)
api_router.include_router(customer_details_router)
api_router.include_router(privacy_router)
api_router.include_router(regional_router)
api_router.include_router(reports_router)
api_router.include_router(corrections_router)
api_router.include_router(report_flags_router)
api_router.include_router(pipeline_router)
api_router.include_router(audit_router)
api_router.include_router(agents_router)
api_router.include_router(dialer_router)
api_router.include_router(webhooks_router)
