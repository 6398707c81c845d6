"""Choosers of the editors' screen for records kept by other modules (species)."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.chooser import ChooserViewSet


class SpeciesChooserViewSet(ChooserViewSet):
    """Pick a species of the catalogue for a species card (species are written by curators in
    the back office, never here)."""

    model = "wildlife.Species"
    icon = "pick"
    choose_one_text = _("Choose a species")
    choose_another_text = _("Choose another species")
    edit_item_text = None
    per_page = 20


species_chooser_viewset = SpeciesChooserViewSet("species_chooser")
