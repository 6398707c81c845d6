"""Demo data: each module registers the steps that fill the park with believable data.

A module's ``demo.py`` calls ``demo_step(...)``; ``python manage.py seed_demo`` runs every step
in order. Steps must be idempotent (``update_or_create`` on a natural key): running the
command twice leaves the same data.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    role: str


@dataclass
class DemoContext:
    """What steps share: the accounts and notes to print at the end (ids to try the API with)
    and the objects others build on."""

    accounts: list[DemoAccount] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    objects: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoStep:
    order: int
    name: str
    run: Callable[[DemoContext], None]
    # Run inside one transaction (all or nothing). A step that talks to a gateway (refunds)
    # must not: its services open their own short transactions (docs/adr/0026).
    atomic: bool = True


_steps: dict[str, DemoStep] = {}


def demo_step(
    *, order: int, name: str, atomic: bool = True
) -> Callable[[Callable[[DemoContext], None]], Callable]:
    """Register a demo data step; lower ``order`` runs first."""

    def register(function: Callable[[DemoContext], None]) -> Callable[[DemoContext], None]:
        _steps[name] = DemoStep(order=order, name=name, run=function, atomic=atomic)
        return function

    return register


def demo_steps() -> list[DemoStep]:
    return sorted(_steps.values(), key=lambda step: (step.order, step.name))
