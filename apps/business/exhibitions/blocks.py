"""The blocks an exhibition's body is made of (a Wagtail StreamField).

Rich text keeps a safe subset of HTML whoever writes it (the editors' screen or the API): the
block cleans its value with nh3 (ammonia) on every save. Links of calls to action are checked:
``https://`` or ``http://`` addresses, or a path of the park's own site (``/tickets``).
"""

from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock
from wagtail.rich_text import RichText

from .choosers import species_chooser_viewset

RICH_TEXT_FEATURES = ["h3", "h4", "bold", "italic", "ol", "ul", "link", "blockquote"]
SAFE_TAGS = {"p", "br", "h3", "h4", "strong", "b", "em", "i", "ol", "ul", "li", "a", "blockquote"}
SAFE_ATTRIBUTES = {"a": {"href"}}
SAFE_URL_SCHEMES = {"http", "https", "mailto"}
MAX_BLOCKS = 60

SpeciesChooserBlock = species_chooser_viewset.get_block_class(
    name="SpeciesChooserBlock", module_path="apps.business.exhibitions.blocks"
)


def _safe_href(tag: str, attribute: str, value: str) -> str | None:
    """Links to ``http(s)://`` and ``mailto:`` addresses, or paths of the site: a relative
    link that a browser would read as another host (``//host``, ``\\host``) is dropped."""
    if attribute != "href":
        return value
    if value.lower().startswith(("http://", "https://", "mailto:")):
        return value
    return value if is_site_path(value) else None


def safe_html(html: str) -> str:
    """``html`` reduced to the tags, attributes and links the front ends render."""
    return nh3.clean(
        html,
        tags=SAFE_TAGS,
        attributes=SAFE_ATTRIBUTES,
        url_schemes=SAFE_URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
        attribute_filter=_safe_href,
    )


class SafeRichTextBlock(blocks.RichTextBlock):
    def clean(self, value: Any) -> RichText:
        value = super().clean(value)
        return RichText(safe_html(value.source))


def is_site_path(value: str) -> bool:
    """A path of the park's own site: one leading slash, no backslash (browsers read ``/\\``
    as ``//``, another host), no spaces or control characters."""
    return (
        value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and not any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value)
    )


def check_link(value: str) -> None:
    if value.startswith("/"):
        if not is_site_path(value):
            raise ValidationError(
                _("A path has one leading slash and no backslash, space or control character.")
            )
        return
    URLValidator(schemes=["https", "http"])(value)


class LinkBlock(blocks.CharBlock):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=500, validators=[check_link], **kwargs)


class FactBlock(blocks.StructBlock):
    label = blocks.CharBlock(max_length=60, label=_("label"))
    value = blocks.CharBlock(max_length=160, label=_("value"))


class FactBoxBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=80, label=_("title"))
    facts = blocks.ListBlock(FactBlock(), min_num=1, max_num=12, label=_("facts"))

    class Meta:
        icon = "list-ul"
        label = _("Fact box")


class PictureBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("image"))
    alt_text = blocks.CharBlock(max_length=255, label=_("alternative text"))
    credit = blocks.CharBlock(max_length=200, required=False, label=_("credit"))
    caption = blocks.CharBlock(max_length=255, required=False, label=_("caption"))

    class Meta:
        icon = "image"
        label = _("Image")


class SpeciesCardBlock(blocks.StructBlock):
    species = SpeciesChooserBlock(label=_("species"))
    note = blocks.TextBlock(max_length=500, required=False, label=_("note"))

    class Meta:
        icon = "pick"
        label = _("Species card")


class CallToActionBlock(blocks.StructBlock):
    label = blocks.CharBlock(max_length=80, label=_("label"))
    url = LinkBlock(label=_("link"))

    class Meta:
        icon = "link"
        label = _("Call to action")


class ExhibitionBody(blocks.StreamBlock):
    rich_text = SafeRichTextBlock(features=RICH_TEXT_FEATURES, label=_("Rich text"))
    fact_box = FactBoxBlock()
    image = PictureBlock()
    species_card = SpeciesCardBlock()
    call_to_action = CallToActionBlock()

    class Meta:
        max_num = MAX_BLOCKS
