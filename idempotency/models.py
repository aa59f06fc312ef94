from django.db import models


class IdempotencyKey(models.Model):
    """The stored first answer to a create sent with an `Idempotency-Key` header.

    A row is inserted in the same transaction as the work it guards and holds the
    response only when that work committed, so a retry either replays this answer or,
    when the first attempt failed and rolled back, finds no row and does the work.
    """

    scope = models.CharField(
        max_length=80,
        help_text="Whose key: `user:<id>`, or `register:<hash of the address>`.",
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64, help_text="HMAC of method, path and body (file bytes too)."
    )
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=255, blank=True)
    location = models.CharField(max_length=255, blank=True)
    body = models.BinaryField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="idempotency_key_unique_per_scope"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.scope})"
