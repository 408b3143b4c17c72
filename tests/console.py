"""Operators for the console's tests: one per role, logged in; and a form POST as a browser sends it."""

import re

from django.contrib.auth.models import Group, User
from django.test import Client


def operator(role: str) -> Client:
    """A client logged in as a new staff user in the group ``role`` (created by a data migration)."""
    user = User.objects.create_user(username=role.split()[-1].strip("()"), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def csrf_post(client: Client, url: str, data: dict):
    """GET the form at ``url``, then POST ``data`` with its CSRF token (and its once-token, if any)."""
    page = client.get(url)
    assert page.status_code == 200, page.content[:500]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    once = re.search(rb'name="once" value="([^"]+)"', page.content)
    extra = {"once": once.group(1).decode()} if once else {}
    return client.post(url, {"csrfmiddlewaretoken": token, **extra, **data})
