"""Accepted layering order of routine steps: thinnest to thickest, sunscreen last."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

# Step kinds in the order they go on the face. A weekly mask goes on clean skin,
# before anything is left on; sunscreen is the last morning layer.
STEP_KINDS: tuple[str, ...] = (
    "cleanse",
    "mask",
    "tone",
    "serum",
    "treat",
    "eye",
    "moisturise",
    "oil",
    "protect",
)
LAYER_RANK: dict[str, int] = {kind: rank for rank, kind in enumerate(STEP_KINDS)}

PRODUCT_CATEGORIES: tuple[str, ...] = (
    "cleanser",
    "toner",
    "serum",
    "treatment",
    "moisturiser",
    "sunscreen",
    "eye_cream",
    "mask",
    "oil",
)
CATEGORY_STEP_KIND: dict[str, str] = {
    "cleanser": "cleanse",
    "toner": "tone",
    "serum": "serum",
    "treatment": "treat",
    "moisturiser": "moisturise",
    "sunscreen": "protect",
    "eye_cream": "eye",
    "mask": "mask",
    "oil": "oil",
}
PERIODS: tuple[str, ...] = ("am", "pm", "weekly")


class Layered(Protocol):
    """Anything with a step kind and a position."""

    @property
    def step_kind(self) -> str: ...

    @property
    def position(self) -> int: ...


L = TypeVar("L", bound=Layered)


def layer_rank(step_kind: str) -> float:
    """Rank of a step kind in the layering order; unknown kinds go just before oil."""
    return LAYER_RANK.get(step_kind, LAYER_RANK["oil"] - 0.5)


def sort_steps(steps: Iterable[L]) -> list[L]:
    """Return steps in layering order, keeping the user's order within one kind."""
    return sorted(steps, key=lambda step: (layer_rank(step.step_kind), step.position))


def is_in_layering_order(steps: Iterable[Layered]) -> bool:
    """Whether steps, taken by position, follow the accepted layering order."""
    ranks = [layer_rank(s.step_kind) for s in sorted(steps, key=lambda s: s.position)]
    return ranks == sorted(ranks)
