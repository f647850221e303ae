"""variations: {a|b} groups expand to every combination; other braces stay; errors say where."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heurist_ui.errors import InvalidRequestError
from heurist_ui.params import GenerationParams
from heurist_ui.variations import (
    MAX_JOBS,
    count_variations,
    describe,
    expand,
    plan_variations,
    with_templates,
)


def test_one_group_gives_each_option():
    assert expand("a {red|green|blue} kite") == ["a red kite", "a green kite", "a blue kite"]


def test_several_groups_multiply_first_varying_slowest():
    assert expand("{a|b} {1|2}") == ["a 1", "a 2", "b 1", "b 2"]


@pytest.mark.parametrize(
    "template",
    ["no groups at all", "{masterpiece}, a cat", "(word:1.2), [x]", "", "{}"],
)
def test_text_without_groups_is_left_alone(template):
    assert expand(template) == [template]


def test_escaped_braces_are_literal():
    assert expand(r"\{a|b\} and {c|d}") == ["{a|b} and c", "{a|b} and d"]


def test_an_empty_option_is_allowed():
    assert expand("a cat{|, in the rain}") == ["a cat", "a cat, in the rain"]


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("a {red|green cat", "never closed (at character 3)"),
        ("a red} cat", "no '{' before it (at character 6)"),
        ("{a|{b|c}}", "variations cannot be nested"),
    ],
)
def test_unbalanced_braces_say_where_and_what_to_change(template, words):
    with pytest.raises(InvalidRequestError, match=r"\\[{}]|Close") as raised:
        expand(template)
    assert words in str(raised.value)


def test_too_many_combinations_is_an_error_before_expanding():
    template = "{a|b}" * 7  # 128
    assert count_variations(template) == MAX_JOBS + 1  # "more than the limit", counted no further
    with pytest.raises(InvalidRequestError, match="more than 64 variations; at most 64"):
        expand(template)


def test_counting_stops_at_the_limit_however_many_groups():
    # 1500 groups would be a 452-digit number; the count stops at the limit instead.
    assert count_variations("{a|b}" * 1500) == MAX_JOBS + 1
    with pytest.raises(InvalidRequestError, match="More than 64 variations: at most 64"):
        plan_variations("{a|b}" * 1500, "", images=1)


@pytest.mark.parametrize("name", ["prompt", "negative prompt"])
def test_a_huge_template_is_refused_for_its_length_before_it_is_parsed(name):
    template = "{a|b}" * 300_000  # 1.5 MB
    with pytest.raises(InvalidRequestError, match=f"The {name} is too long"):
        count_variations(template, name)


def test_plan_combines_prompt_and_negative_variations():
    plan = plan_variations("a {cat|dog}", "{blurry|dark}", images=2)
    assert [(v.prompt, v.neg_prompt) for v in plan] == [
        ("a cat", "blurry"),
        ("a cat", "dark"),
        ("a dog", "blurry"),
        ("a dog", "dark"),
    ]


def test_plan_counts_images_against_the_limit():
    with pytest.raises(InvalidRequestError, match=r"9 variations × 8 images = 72 images"):
        plan_variations("{a|b|c} {1|2|3}", "", images=8)
    assert len(plan_variations("{a|b|c} {1|2|3}", "", images=7)) == 9


def test_describe_counts_for_the_cost_line():
    assert describe(3, 2) == "3 variations × 2 images = 6 images"
    assert describe(1, 2) == "2 images"
    assert describe(1, 1) == "1 image"


def test_with_templates_notes_the_templates_only_when_expanded():
    job = GenerationParams("a cat", "dark", "SDXL", 512, 512, 20, 7.0, 1)
    noted = dict(with_templates(job, "a {cat|dog}", "dark").notes)
    assert noted == {"prompt_template": "a {cat|dog}"}
    assert with_templates(job, "a cat", "dark").notes == ()


@given(st.text(alphabet="ab{}|\\ ", max_size=30))
def test_any_text_expands_or_fails_clearly(template):
    try:
        prompts = expand(template)
    except InvalidRequestError as error:
        assert "brace" in str(error) or "nested" in str(error) or "variations" in str(error)
        return
    assert 1 <= len(prompts) <= MAX_JOBS
    assert len(prompts) == count_variations(template)
