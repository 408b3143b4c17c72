"""Reading the Prometheus text format in tests."""

import re


def samples(text: str) -> dict[str, float]:
    """{'name{labels}': value} of a Prometheus text exposition (comments left out)."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            found[series] = float(value)
    return found


def sample(found: dict[str, float], name: str, **labels: str) -> float:
    """The sum of ``name``'s series whose labels include ``labels``."""
    total = 0.0
    for series, value in found.items():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})?", series)
        if match is None or match.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += value
    return total
