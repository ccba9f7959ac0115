"""The demo network that `make run` serves (development only)."""

DEMO_DOMAIN = "demo.referloop.org"
DEMO_PASSWORD = "referloop-demo"
