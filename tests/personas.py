"""The fixed cast every test uses: two tenants, and in each an admin, a staff member and
an outsider (a user of that tenant with no role). Personas of the two tenants share
their ids on purpose, so a test can show that an id alone never crosses tenants."""

import uuid

TENANT_A = "alpha"
TENANT_B = "beta"
HOSTS = {TENANT_A: "alpha.localhost", TENANT_B: "beta.localhost"}
PASSWORD = "persona-password-1"

PERSONAS = {
    "admin": (uuid.UUID("00000000-0000-4000-8000-00000000000a"), ["tenant_admin"]),
    "staff": (uuid.UUID("00000000-0000-4000-8000-00000000000b"), ["staff"]),
    "outsider": (uuid.UUID("00000000-0000-4000-8000-00000000000c"), []),
}
