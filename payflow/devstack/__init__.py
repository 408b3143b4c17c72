"""The local stack behind ``make run`` and the end-to-end tests.

Standard library only: it must run before anything else is set up.
"""
