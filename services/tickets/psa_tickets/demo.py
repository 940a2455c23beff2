"""The demo tenant `make run` creates on first start, so a new user has something to look at."""

import secrets

from psa_shared.auth import KeyRing, Principal
from psa_shared.config import Settings
from psa_shared.tenancy import tenant_scope

from .database import db
from .directory import clients, members
from .directory.models import Member, Tenant
from .directory.tenants import create_tenant
from .directory.tokens import member_view
from .servicedesk.demo_story import seed_mailbox_story
from .servicedesk.tickets import create_ticket

DEMO_TENANT = "Demo MSP"
ADMIN_EMAIL = "admin@demo-msp.example"
DEMO_TOKEN_TTL = 12 * 3600


def seed(settings: Settings) -> str | None:
    """Create the demo tenant on an install with no tenant; every start prints a fresh token for its
    admin while it is the only one. Once an MSP's own tenant is there, its logs get no token."""
    with db.proxy.connection_context():
        if Tenant.select().where(Tenant.name != DEMO_TENANT).exists():
            return None
        tenant = Tenant.get_or_none(Tenant.name == DEMO_TENANT)
        password = None
        if tenant is None:
            password = secrets.token_urlsafe(12)
            tenant, admin = create_tenant(DEMO_TENANT, ADMIN_EMAIL, password, "America/Chicago")
            with tenant_scope(tenant.id):
                open_work = _sample_directory(Principal(member_view(admin)))
                # The story first: its ticket, opened two weeks ago, is number 1.
                seed_mailbox_story(Principal(member_view(admin)), "Acme Dental", "tech@demo-msp.example")
                for fields in open_work:
                    create_ticket(Principal(member_view(admin)), **fields)
        with tenant_scope(tenant.id):
            admin = Member.get(Member.email == ADMIN_EMAIL)
            token = KeyRing.load(settings, issuer=True).mint(member_view(admin), DEMO_TOKEN_TTL)
    sign_in = f"password {password}" if password else "the password printed on first run"
    return "\n".join(
        [
            f"Demo tenant '{DEMO_TENANT}' (id {tenant.id})",
            f"  sign in:  POST {{base_url}}/api/v1/auth/token  tenant={tenant.id} email={ADMIN_EMAIL} {sign_in}",
            f"  token (12 h):  {token}",
            "  try:  curl -H 'Authorization: Bearer <token>' {base_url}/api/v1/clients",
        ]
    )


def _sample_directory(admin: Principal) -> list[dict]:
    """Clients, contacts and members; returns the open work to open once the story is told."""
    acme = clients.create_client(admin, name="Acme Dental", phone="+1 555 0100")
    riverside = clients.create_client(admin, name="Riverside Law")
    clients.create_client(admin, name="Northwind Logistics")
    clients.create_contact(
        admin, acme.id, name="Dana Whitfield", email="dana@acme-dental.example", title="Office manager"
    )
    clients.create_contact(admin, riverside.id, name="Sam Ortega", email="sam@riverside-law.example")
    # the dispatcher reads every client's trail (the story's "her boss calls"): without a grant she saw none
    dispatcher = members.create_member(
        "dispatch@demo-msp.example", "Dee Dispatcher", "dispatcher", weekly_capacity_hours=40
    )
    members.set_grants(dispatcher.id, True, [])
    tech = members.create_member("tech@demo-msp.example", "Tom Tech", "technician", weekly_capacity_hours=40)
    members.set_grants(tech.id, False, [acme.id, riverside.id])
    # Open work with estimates, so the backlog report has hours in the pipe.
    return [
        {"client_id": client.id, "summary": summary, "estimate_minutes": minutes, "assignee_id": assignee}
        for client, summary, minutes, assignee in (
            (riverside, "Replace the front-desk printer", 90, tech.id),
            (riverside, "Migrate the file share to SharePoint", 16 * 60, tech.id),
            (acme, "New hire laptop for the hygienist", 120, None),
        )
    ]
