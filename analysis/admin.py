from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from analysis import services
from analysis.errors import AnalysisError
from analysis.models import Analysis
from skincare.storage import StorageUnavailable, unavailable_page


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    """Analyses with their scores and quality codes; photos via an admin-only view."""

    list_display = [
        "id",
        "user",
        "status",
        "skin_type",
        "top_scores",
        "failure_code",
        "attempts",
        "created_at",
    ]
    list_filter = ["status", "failure_code", "skin_type"]
    search_fields = ["id", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    actions = ["rerun"]
    exclude = ["photo", "raw_upload", "photo_result", "scores"]
    readonly_fields = [
        "id",
        "user",
        "status",
        "thumbnail",
        "photo_deleted_at",
        "answers",
        "skin_type",
        "profile",
        "score_table",
        "quality_codes",
        "failure_code",
        "failure_detail",
        "failure_advice",
        "engine_version",
        "attempts",
        "created_at",
        "enqueued_at",
        "started_at",
        "completed_at",
    ]

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        urls = [
            path(
                "<uuid:pk>/photo/",
                self.admin_site.admin_view(self.photo_view),
                name="analysis_analysis_photo",
            )
        ]
        return urls + super().get_urls()

    def photo_view(self, request, pk):
        """Serve a photo to staff allowed to view analyses; never cached."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        analysis = get_object_or_404(Analysis, pk=pk)
        try:
            handle = services.open_photo(analysis=analysis)
        except StorageUnavailable:
            return unavailable_page()
        if handle is None:
            raise Http404("No stored photo.")
        response = FileResponse(handle, content_type="image/jpeg")
        response["Cache-Control"] = "no-store, private"
        return response

    @admin.display(description="photo")
    def thumbnail(self, analysis: Analysis):
        if not analysis.photo:
            return "deleted" if analysis.photo_deleted_at else "-"
        url = reverse("admin:analysis_analysis_photo", kwargs={"pk": analysis.pk})
        return format_html(
            '<a href="{}"><img src="{}" alt="analysis photo" '
            'style="max-width:240px;max-height:240px"></a>',
            url,
            url,
        )

    @admin.display(description="scores")
    def top_scores(self, analysis: Analysis) -> str:
        scores = sorted(
            (analysis.scores or {}).items(), key=lambda item: -item[1]["score"]
        )
        return ", ".join(f"{name} {value['score']}" for name, value in scores[:3])

    @admin.display(description="scores")
    def score_table(self, analysis: Analysis):
        if not analysis.scores:
            return "-"
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (name, value["score"], value["band"], value["confidence"])
                    for name, value in analysis.scores.items()
                ),
            ),
        )

    @admin.display(description="quality")
    def quality_codes(self, analysis: Analysis) -> str:
        findings = (analysis.photo_result or {}).get("quality", [])
        return (
            ", ".join(
                f"{f['code']} {'ok' if f['passed'] else 'FAILED'}" for f in findings
            )
            or "-"
        )

    @admin.action(description="Re-run the selected analyses")
    def rerun(self, request, queryset):
        done = 0
        for analysis in queryset:
            try:
                services.rerun_analysis(analysis=analysis)
            except AnalysisError as exc:
                self.message_user(
                    request, f"{analysis.pk}: {exc.message}", messages.WARNING
                )
            else:
                done += 1
        self.message_user(request, f"{done} analyses re-queued.", messages.SUCCESS)
