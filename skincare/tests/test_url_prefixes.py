"""The project URLconf names, next to each app's include, every prefix it serves."""

import re
from pathlib import Path

from django.urls import URLResolver, get_resolver

URLS = Path(__file__).resolve().parents[1] / "urls.py"


def test_each_api_include_names_the_prefixes_its_app_serves():
    api = next(
        entry
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver) and str(entry.pattern) == "api/v1/"
    )
    source = URLS.read_text()
    for entry in api.url_patterns:
        if not isinstance(entry, URLResolver):
            continue
        app = entry.urlconf_name.__name__
        served = {
            re.split(r"[/^]", str(p.pattern).lstrip("^"))[0] + "/"
            for p in entry.url_patterns
        }
        served.discard("/")
        comment = re.search(rf'include\("{app}"\)\),\s*#(.*)', source).group(1)
        named = {p.strip() for p in comment.split(",")}
        assert served <= named, f"{app}: {served - named} not named in skincare/urls.py"
