"""Credit estimates: the seed document's unit and example, and the per-type multipliers."""

from __future__ import annotations

import pytest

from heurist_ui.cost import CREDIT_MULTIPLIERS, estimate_credits, estimate_price
from heurist_ui.errors import InvalidRequestError


def test_seed_document_example_is_exactly_three_quarters():
    assert estimate_credits(model_type="sdxl10", width=1024, height=512, num_iterations=30) == 0.75


def test_standard_sdxl_image_costs_one_credit():
    assert estimate_credits("sdxl10", 1024, 1024, 20) == 1.0


@pytest.mark.parametrize("model_type", sorted(CREDIT_MULTIPLIERS))
@pytest.mark.parametrize(
    ("change", "factor"),
    [
        ({"width": 2048}, 2),
        ({"height": 256}, 0.25),
        ({"width": 512, "height": 512}, 0.25),
        ({"num_iterations": 40}, 2),
        ({"num_iterations": 5}, 0.25),
        ({"num_images": 4}, 4),
    ],
)
def test_cost_is_proportional_to_pixels_steps_and_images(model_type, change, factor):
    base = {"width": 1024, "height": 1024, "num_iterations": 20, "num_images": 1}

    changed = estimate_credits(model_type, **{**base, **change})

    assert changed == pytest.approx(factor * estimate_credits(model_type, **base))


def test_cost_scales_linearly_with_odd_sizes():
    assert estimate_credits("sdxl10", 680, 1024, 25) == pytest.approx(680 / 1024 * 25 / 20)


def test_model_types_are_ordered_by_price():
    order = ["sd15", "sdxl10", "compositexl", "flux-dev", "flux-dev-lora"]

    prices = [estimate_credits(kind, 1024, 1024, 20) for kind in order]

    assert prices == sorted(prices)
    assert len(set(prices)) == len(prices)


def test_sd15_lora_costs_twice_sd15():
    assert estimate_credits("composite15", 512, 768, 25) == 2 * estimate_credits(
        "sd15", 512, 768, 25
    )


def test_sdxl_lora_costs_twice_sdxl():
    assert estimate_credits("compositexl", 1024, 1024, 20) == 2 * estimate_credits(
        "sdxl10", 1024, 1024, 20
    )


def test_credits_page_ratios_hold():
    # Heurist's credits page: SD 0.05, SD+LoRA 0.1, FLUX 0.2, FLUX+LoRA 0.5 per image.
    sd = estimate_credits("sdxl10", 1024, 1024, 20)

    assert estimate_credits("flux-dev", 1024, 1024, 20) == 4 * sd
    assert estimate_credits("flux-dev-lora", 1024, 1024, 20) == 10 * sd


@pytest.mark.parametrize(
    ("model_type", "priced_as"),
    [("flux-pro", "flux-dev"), ("flux-schnell", "flux-dev"), ("flux-pro-lora", "flux-dev-lora")],
)
def test_unknown_flux_variant_is_priced_as_flux(model_type, priced_as):
    assert estimate_credits(model_type, 1024, 1024, 20) == estimate_credits(
        priced_as, 1024, 1024, 20
    )


@pytest.mark.parametrize("model_type", ["llm", "sd3", "", "SDXL"])
def test_unknown_type_raises_invalid_request_naming_it(model_type):
    with pytest.raises(InvalidRequestError, match="model type"):
        estimate_credits(model_type, 1024, 1024, 20)


@pytest.mark.parametrize(
    ("model_type", "credits"),
    [
        ("sd15", 0.05),
        ("sdxl10", 0.05),
        ("composite15", 0.1),
        ("compositexl", 0.1),
        ("flux-dev", 0.2),
        ("flux-dev-lora", 0.5),
    ],
)
def test_the_credits_page_prices_a_standard_image(model_type, credits):
    price = estimate_price(model_type, 1024, 1024, 20)
    assert price.credits == pytest.approx(credits)
    assert price.usd == pytest.approx(credits / 100)  # 1 USD = 100 credits


def test_page_prices_scale_with_pixels_steps_and_images():
    price = estimate_price("flux-dev", 1024, 512, 30, num_images=4)
    assert price.credits == pytest.approx(0.2 * 0.5 * 1.5 * 4)
    assert str(price) == "0.6 credits ($0.006)"


def test_page_prices_refuse_unknown_types_like_estimates_do():
    with pytest.raises(InvalidRequestError, match="model type"):
        estimate_price("sd3", 1024, 1024, 20)
