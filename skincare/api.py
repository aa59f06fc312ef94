"""Small pieces every app's API shares."""

_HEX = "[0-9a-fA-F]"
# A UUID, hyphens optional as uuid.UUID accepts; anything else never reaches a query.
UUID_LOOKUP_REGEX = f"{_HEX}{{8}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{12}}"
