"""Demo data of donations: two campaigns, the turtles' with gifts (one of them beside the
demo visitor's tickets, one anonymous from a guest, one given back by finance) and the reef's
with a first gift."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.business.payments import services as payments
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import PaymentMethod
from apps.support.common.demo import DemoContext, demo_step
from apps.support.security.models import User

from .models import Campaign, Donation

# Slug, first and last day from today, and the rest of the campaign.
CAMPAIGNS: tuple[tuple[str, int, int, dict[str, Any]], ...] = (
    (
        "rescate-tortugas",
        -20,
        70,
        {
            "title_es": "Rescate y liberación de tortugas marinas",
            "title_en": "Sea turtle rescue and release",
            "story_es": (
                "Cada temporada llegan al parque tortugas lora heridas por redes y plásticos. "
                "Tu donación paga su atención veterinaria, su rehabilitación y su liberación."
            ),
            "story_en": (
                "Every season olive ridley turtles reach the park hurt by nets and plastic. "
                "Your gift pays for their veterinary care, rehabilitation and release."
            ),
            "goal": Decimal("3000000.00"),
            "suggested_amounts": ["2000.00", "5000.00", "10000.00"],
        },
    ),
    (
        "restauracion-arrecife",
        -5,
        120,
        {
            "title_es": "Restauración del arrecife de coral",
            "title_en": "Coral reef restoration",
            "story_es": "Sembramos en el arrecife del golfo corales criados en el parque.",
            "story_en": "We plant coral fragments raised at the park on the gulf's reef.",
            "goal": Decimal("8000000.00"),
            "suggested_amounts": ["5000.00", "25000.00"],
        },
    ),
)


def _gift(amount: str, campaign: Campaign, **fields: object) -> LineRequest:
    return LineRequest(
        kind="donation",
        quantity=1,
        fields={"amount": amount, "campaign": campaign.pk, **fields},
    )


@demo_step(order=44, name="donations.campaigns", atomic=False)
def create_campaigns_and_gifts(context: DemoContext) -> None:
    """Not atomic: the refund talks to the (sandbox) gateway after its own commit."""
    now = timezone.now()
    campaigns = {}
    for slug, start, end, fields in CAMPAIGNS:
        campaigns[slug], _created = Campaign.objects.get_or_create(
            slug=slug,
            defaults=fields
            | {
                "starts_at": now + timedelta(days=start),
                "ends_at": now + timedelta(days=end),
                "is_public": True,
            },
        )
    if Donation.objects.exists():
        return
    turtles, reef = campaigns["rescate-tortugas"], campaigns["restauracion-arrecife"]
    visitor = User.objects.get(email="visitor@parquemarino.test")
    finance = User.objects.get(email="finance@parquemarino.test")

    def give(actor: User | None, *lines: LineRequest, email: str = "") -> None:
        order = payments.order_create(actor=actor, lines=list(lines), email=email)
        payments.order_pay(order=order, actor=actor, method=PaymentMethod.SANDBOX)

    give(visitor, _gift("5000.00", turtles, message="¡Que vuelvan pronto al mar!"))
    give(None, _gift("10000.00", turtles, anonymous=True), email="donante@example.org")
    give(
        None,
        _gift("2000.00", turtles, name="Familia Rojas", message="Desde Cartago"),
        email="rojas@example.org",
    )
    give(visitor, _gift("25000.00", reef, message="Por los corales"))
    # A gift made by mistake twice, the second given back by finance.
    give(None, _gift("3000.00", reef, name="Luis Soto"), email="luis@example.org")
    twice = payments.order_create(
        actor=None, lines=[_gift("3000.00", reef, name="Luis Soto")], email="luis@example.org"
    )
    payments.order_pay(order=twice, actor=None, method=PaymentMethod.SANDBOX)
    payments.refund_request(
        order=twice, actor=finance, lines=None, amount=None, reason="Donación duplicada"
    )
