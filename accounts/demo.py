"""The quick start's demo accounts: their passwords are published in this repository.

operations/demo.py creates them; the deploy check (accounts/checks.py) fails while any
of them exists.
"""

DEMO_ADMIN = ("admin@skincare.local", "demo-Admin-pass-1")
DEMO_PATIENT = ("patient@skincare.local", "demo-Patient-pass-1")
DEMO_DERMATOLOGIST = ("dermatologist@skincare.local", "demo-Derm-pass-1")
DEMO_EMAILS = (DEMO_ADMIN[0], DEMO_PATIENT[0], DEMO_DERMATOLOGIST[0])
