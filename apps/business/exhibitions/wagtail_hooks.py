"""The editors' screen (/cms/): exhibitions as Wagtail snippets, and the species chooser."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    PublishingPanel,
    TabbedInterface,
)
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .choosers import species_chooser_viewset
from .models import Exhibition


@hooks.register("register_admin_viewset")
def register_species_chooser() -> Any:
    return species_chooser_viewset


class ExhibitionViewSet(SnippetViewSet):
    model = Exhibition
    icon = "doc-full-inverse"
    menu_label = _("Exhibitions")
    menu_order = 100
    add_to_admin_menu = True
    list_display = ["title_es", "slug", "kind", "opens_on", "closes_on"]
    list_filter = ["kind", "live"]
    ordering = ["opens_on", "slug"]
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldRowPanel([FieldPanel("title_es"), FieldPanel("title_en")]),
                    FieldRowPanel([FieldPanel("summary_es"), FieldPanel("summary_en")]),
                    FieldPanel("hero_image"),
                    FieldPanel("body_es"),
                ],
                heading=_("Content (Spanish)"),
            ),
            ObjectList([FieldPanel("body_en")], heading=_("Content (English)")),
            ObjectList(
                [
                    FieldPanel("slug"),
                    FieldPanel("kind"),
                    FieldRowPanel([FieldPanel("opens_on"), FieldPanel("closes_on")]),
                    MultiFieldPanel(
                        [FieldPanel("section"), FieldPanel("habitat")],
                        heading=_("Where it is"),
                    ),
                    FieldPanel("species"),
                    InlinePanel("gallery", label=_("Gallery image")),
                ],
                heading=_("Details"),
            ),
            ObjectList([PublishingPanel()], heading=_("Scheduling")),
        ]
    )


register_snippet(ExhibitionViewSet)
