"""A local stand-in for the vendors' APIs, serving a seeded synthetic B2B company.

Production code never imports this package; tests and the dev stack do.
"""
