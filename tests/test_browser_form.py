"""The form is the request, as a property over random records of every model kind, in Chromium.

For each seeded random record: picking its model applies the model's recommended values; the
form then holds the record (typed by hand where typing is what is checked, the Reuse records and
the FLUX LoRA test; through a link, the page's own restore path, for the others); Generate sends
exactly the record's jobs (submit_job's, or the workflow tasks of a FLUX LoRA,
`flux-lora:<lora>`). Then each restore (Reuse all settings, a History row, PNG info, a link)
brings every value back, style, count and {a|b} template included, and Generate right after
sends the same jobs again.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import test_browser as shared
from test_browser import CHROMIUM, expect, open_page, prompt_box
from waiting import wait_until

from heurist_ui.catalog import ModelInfo
from heurist_ui.generator_models import STRENGTH, lora_kind, with_loras
from heurist_ui.params import MAX_GUIDANCE, MIN_GUIDANCE
from heurist_ui.pngfile import find_saved, read_png_metadata
from heurist_ui.prompt_help import NO_STYLE, apply_style, style_names
from heurist_ui.ui.form import FORM_FIELDS
from heurist_ui.ui.links import QUERY_NAMES
from heurist_ui.variations import plan_variations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]

# One per model kind (seven) in the default run, so each restore at least once too (a record
# takes about 10 s on a quiet machine: a pick, a fill, two batches, a restore); FORM_RECORDS=21
# for three rounds.
RECORDS = int(os.environ.get("FORM_RECORDS", 7))
WORDS = ("lighthouse", "fox", "harbour", "kite", "owl", "tram", "heron", "lantern", "dune", "cliff")

# The browser, the sandbox and the app of test_browser, one each for this module.
browser, app_sandbox, app, context = shared.browser, shared.app_sandbox, shared.app, shared.context
RESTORES = ("reuse", "history", "png info", "link")


@dataclass(frozen=True)
class FormRecord:
    """The form's values (FORM_FIELDS) for one random request."""

    prompt: str
    neg_prompt: str
    model_id: str
    width: int
    height: int
    num_iterations: int
    guidance_scale: float
    seed: int
    num_images: int
    style: str
    strength_model: float

    def jobs(self, model: ModelInfo) -> list[tuple]:
        """What the sandbox must receive for this form, one tuple per job, sorted."""
        prompt, negative = apply_style(
            self.style, self.prompt, self.neg_prompt, takes_negative=model.takes_negative_prompt
        )
        kind = lora_kind(model.name)
        if kind is not None:  # workflow tasks: no negative prompt, no guidance
            return sorted(
                (
                    variation.prompt,
                    kind.extra["lora_name"],
                    self.width,
                    self.height,
                    self.num_iterations,
                    self.strength_model,
                    self.seed + i,
                )
                for variation in plan_variations(prompt, "", self.num_images)
                for i in range(self.num_images)
            )
        return sorted(
            (
                variation.prompt,
                variation.neg_prompt,
                model.name,
                self.width,
                self.height,
                self.num_iterations,
                self.guidance_scale,
                self.seed + i,
            )
            for variation in plan_variations(prompt, negative, self.num_images)
            for i in range(self.num_images)
        )


def random_records(models: list[ModelInfo], rng: random.Random) -> list[FormRecord]:
    kinds: dict[str, list[ModelInfo]] = {}
    for model in models:
        kinds.setdefault(model.type, []).append(model)
    picks = []
    for _ in range(3):  # every kind in each round of seven
        round_ = [rng.choice(kinds[kind]) for kind in sorted(kinds)]
        rng.shuffle(round_)
        picks += round_
    records = []
    for n, model in enumerate(picks[:RECORDS]):
        d = model.defaults
        lora = lora_kind(model.name) is not None
        low, step = (512, 64) if lora else (256, 8)
        words = rng.sample(WORDS, 3)
        if rng.random() < 0.3:
            words[1] = "{red|blue}"  # a variation: two prompts
        negative = " ".join(rng.sample(WORDS, 2)) if model.takes_negative_prompt else ""
        records.append(
            FormRecord(
                prompt=f"{n} " + " ".join(words),
                neg_prompt=negative,
                model_id=model.name,
                width=rng.randrange(low, min(d.max_width, 1536) + 1, step),
                height=rng.randrange(low, min(d.max_height, 1536) + 1, step),
                num_iterations=rng.randint(1, 50),
                guidance_scale=rng.randrange(int(MIN_GUIDANCE * 2), int(MAX_GUIDANCE * 2) + 1) / 2,
                seed=rng.randrange(10**6, 2**31),
                num_images=rng.randint(1, 2),
                style=rng.choice(style_names()),
                strength_model=rng.randrange(0, 21) / 20 if lora else STRENGTH.default,
            )
        )
    return records


def number_box(page, label: str):
    return page.get_by_label(f"number input for {label}").filter(visible=True)


FIELDS = {  # FORM_FIELDS name -> the control a user reads and types in
    "width": lambda page: number_box(page, "Width"),
    "height": lambda page: number_box(page, "Height"),
    "num_iterations": lambda page: number_box(page, "Steps"),
    "guidance_scale": lambda page: number_box(page, "Guidance scale"),
    "num_images": lambda page: number_box(page, "Images"),
    "seed": lambda page: page.get_by_label("Seed"),
    "neg_prompt": lambda page: page.get_by_label("Negative prompt"),
    "strength_model": lambda page: number_box(page, STRENGTH.label),
}
HIDDEN_FOR_LORAS = ("neg_prompt", "guidance_scale")  # not sent to a FLUX LoRA's miner


def shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def pick(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}( ·|$)")).click()


def hidden(model: ModelInfo) -> set[str]:
    """The form's fields this model does not take (hidden), FIELDS' names."""
    if lora_kind(model.name) is not None:
        return set(HIDDEN_FOR_LORAS)
    return {"strength_model"} | (set() if model.takes_negative_prompt else {"neg_prompt"})


def expect_form(page, record: FormRecord, model: ModelInfo) -> None:
    """Every control shows the record's value (those the model takes are the ones shown)."""
    expect(prompt_box(page)).to_have_value(record.prompt)
    expect(page.get_by_label("Model", exact=True)).to_have_value(model.label)
    expect(page.get_by_label("Style", exact=True)).to_have_value(record.style)
    for name, control in FIELDS.items():
        if name in hidden(model):
            expect(control(page), name).to_be_hidden()
            continue
        expect(control(page), name).to_have_value(shown(getattr(record, name)))


def pick_model(page, model: ModelInfo, models: list[ModelInfo]) -> None:
    """Pick the model as a user does; its recommended values arrive, every time (a model
    already picked is first left for another, so that picking it is a change)."""
    if page.get_by_label("Model", exact=True).input_value() == model.label:
        pick_model(page, next(m for m in models if m.name != model.name), models)
    pick(page, "Model", model.label)
    d = model.defaults
    recommended = {
        "width": d.width,
        "height": d.height,
        "num_iterations": d.num_iterations,
        "guidance_scale": d.guidance_scale,
        "strength_model": STRENGTH.default,
        "neg_prompt": d.neg_prompt or "",
    }
    for name, value in recommended.items():
        if name in hidden(model):
            expect(FIELDS[name](page), f"{model.name}'s {name}").to_be_hidden()
        else:
            expect(FIELDS[name](page), f"{model.name}'s {name}").to_have_value(shown(value))


def fill_form(page, record: FormRecord, model: ModelInfo, models: list[ModelInfo]) -> None:
    """Pick the model, then type every value as a user does."""
    pick_model(page, model, models)
    numbers = ("width", "height", "num_iterations", "guidance_scale", "strength_model")
    for name in (*numbers, "num_images", "seed"):
        if name in hidden(model):
            continue
        box = FIELDS[name](page)
        box.fill(shown(getattr(record, name)))
        box.press("Enter" if name != "seed" else "Tab")
    if "neg_prompt" not in hidden(model):
        FIELDS["neg_prompt"](page).fill(record.neg_prompt)
    prompt_box(page).fill(record.prompt)
    if record.style != NO_STYLE or page.get_by_label("Style").input_value() != NO_STYLE:
        pick(page, "Style", record.style)


def sent_count(sandbox, model: ModelInfo) -> int:
    """What the sandbox has received for this kind of model so far."""
    if lora_kind(model.name) is not None:
        return len(sandbox.workflow.endpoint_calls("task_create"))
    return len(sandbox.submissions)


def sent_tasks(sandbox, since: int) -> list[tuple]:
    names = ("prompt", "lora_name", "width", "height", "steps", "strength_model", "noise_seed")
    calls = sandbox.workflow.endpoint_calls("task_create")[since:]
    return sorted(tuple(call["parameters"][name] for name in names) for call in calls)


def sent_jobs(sandbox, since: int) -> list[tuple]:
    jobs = []
    for submission in sandbox.submissions[since:]:
        sd = submission.payload["model_input"]["SD"]
        jobs.append(
            (
                sd["prompt"],
                sd["neg_prompt"],
                submission.payload["model_id"],
                sd["width"],
                sd["height"],
                sd["num_iterations"],
                sd["guidance_scale"],
                sd["seed"],
            )
        )
    return sorted(jobs)


def images_shown(page):
    """The results' images, once each (not the preview, nor its strip of small copies)."""
    return page.locator("#gallery button[aria-label^='Thumbnail'] img[alt^='seed ']")


def generate_and_check(page, sandbox, record: FormRecord, model: ModelInfo) -> None:
    """Generate; the sandbox receives exactly the record's jobs, and the page shows them."""
    before, expected = sent_count(sandbox, model), record.jobs(model)
    page.get_by_role("button", name="🗑 Clear").click()  # a few images on screen: a quick page
    expect(images_shown(page)).to_have_count(0)
    page.get_by_role("button", name="Generate", exact=True).click()
    wait_until(
        lambda: sent_count(sandbox, model) >= before + len(expected), "every job at the sandbox"
    )
    sent = sent_tasks if lora_kind(model.name) is not None else sent_jobs
    assert sent(sandbox, before) == expected, f"{record} sent something else"
    assert sent_count(sandbox, model) == before + len(expected)
    expect(images_shown(page)).to_have_count(len(expected))


def open_link(page, app, record: FormRecord) -> None:
    """The record's link, in the same page: a fresh form that holds the record."""
    values = {QUERY_NAMES[name]: getattr(record, name) for name in FORM_FIELDS}
    page.goto(f"{app.url}?{urlencode(values)}")
    expect(page.locator("#cost-line")).to_contain_text("credits")


def disturb(page, models: list[ModelInfo], record: FormRecord) -> None:
    """Change the form as a user would before restoring: another model, another prompt."""
    other = next(m for m in models if m.name != record.model_id and not m.is_lora)
    # The batch just shown may still send its last view: one that lands while the Model list
    # is open re-renders it closed, under the click (a busy run timed out so). Every update sent
    # before is shown once settle()'s own event has answered.
    shared.settle(page)
    pick_model(page, other, models)
    prompt_box(page).fill("something else entirely")


def restore(page, app, sandbox, how: str, record: FormRecord, job_id: str) -> None:
    if how == "reuse":
        page.locator(f"#gallery img[alt='seed {record.seed}']").first.click()
        expect(page.locator("#details")).to_contain_text(str(record.seed))
        page.get_by_role("button", name="Reuse all settings").click()
    elif how == "history":
        history = page.locator("#history")
        if not history.get_by_role("textbox", name="Search").is_visible():
            page.get_by_text("History (this browser", exact=False).first.click()
        history.get_by_role("textbox", name="Search").fill(record.prompt.split(" ")[0] + " ")
        close = history.get_by_role("button", name="Close")  # a preview left open
        if close.count() and close.first.is_visible():
            close.first.click()
        item = f"button[aria-label^='Thumbnail'] img[alt*='seed {record.seed}']"
        history.locator(item).first.click()
        history.get_by_role("button", name="Restore its settings").click()
    elif how == "png info":
        path = find_saved(app.studio.runner.output_dir, job_id)
        page.get_by_role("tab", name="PNG info").click()
        dropped = page.get_by_role("button", name="Clear", exact=True).filter(visible=True)
        if dropped.count():  # the image dropped before
            dropped.first.click()
        page.locator("input[type=file]").set_input_files(str(path))
        expect(page.locator("#png-text")).to_contain_text(f"Seed: {record.seed}")
        page.get_by_role("button", name="Send to generator").click()
        expect(page.get_by_role("tab", name="Generate")).to_have_attribute("aria-selected", "true")
    else:  # a link: the record's query in a fresh page of the same browser
        open_link(page, app, record)


def first_job_id(app, sandbox, since: int, record: FormRecord) -> str:
    """The job id of the record's first image (its own seed) among the jobs since `since`."""
    if lora_kind(record.model_id) is not None:  # a task: its record, in the saved file
        for path in sorted(app.studio.runner.output_dir.glob("*/*.jpg")):
            saved = read_png_metadata(path)[1] or {}
            if saved.get("seed") == record.seed and saved.get("kind") == record.model_id:
                return saved["job_id"]
        raise AssertionError(f"no image with seed {record.seed}")
    for submission in sandbox.submissions[since:]:
        if submission.payload["model_input"]["SD"]["seed"] == record.seed:
            return submission.job_id
    raise AssertionError(f"no job with seed {record.seed}")


@pytest.mark.timeout(1200)  # about 1.5 minutes on a quiet machine; 6.5 on a loaded one
def test_the_form_sends_what_it_shows_and_every_restore_brings_it_all_back(
    page_for_property, app, app_sandbox
):
    page = page_for_property
    models = list(with_loras(app.studio.catalog))  # the generator's: FLUX LoRAs last
    records = random_records(models, random.Random(16))
    by_name = {model.name: model for model in models}
    assert {by_name[r.model_id].type for r in records} == {m.type for m in models}
    restores = [(RESTORES[n % len(RESTORES)], record) for n, record in enumerate(records)]
    assert {how for how, _ in restores} == set(RESTORES)  # every restore, every kind
    job_ids = {}
    for how, record in restores:  # the form is the request
        model = by_name[record.model_id]
        if how == "reuse":  # typed by hand, as a user does
            fill_form(page, record, model, models)
        else:  # its model picked by hand (its recommended values arrive), the rest by a link
            pick_model(page, model, models)
            open_link(page, app, record)
        expect_form(page, record, model)
        since = len(app_sandbox.submissions)
        generate_and_check(page, app_sandbox, record, model)
        job_ids[record] = first_job_id(app, app_sandbox, since, record)
        if how == "reuse":  # from the results, while the image is on screen
            disturb(page, models, record)
            restore(page, app, app_sandbox, how, record, job_ids[record])
            expect_form(page, record, model)
            generate_and_check(page, app_sandbox, record, model)
    # A link record was filled by its link above (the form it gave was sent as it showed).
    restores = [pair for pair in restores if pair[0] not in ("reuse", "link")]
    for how, record in restores:  # every other restore brings it all back
        model = by_name[record.model_id]
        disturb(page, models, record)
        restore(page, app, app_sandbox, how, record, job_ids[record])
        expect_form(page, record, model)
        generate_and_check(page, app_sandbox, record, model)


@pytest.fixture
def page_for_property(context, app, app_sandbox):
    app_sandbox.reset()
    app_sandbox.latency = 0.0
    page = open_page(context, app.url)
    yield page
    page.close()


@pytest.mark.timeout(600)  # about 30 s on a quiet machine; over 120 s on a loaded one
def test_a_flux_lora_picked_in_the_generator_runs_as_tasks_and_every_restore_brings_it_back(
    page_for_property, app, app_sandbox
):
    page, lora = page_for_property, "flux-lora:gecko"
    models = list(with_loras(app.studio.catalog))
    model = next(m for m in models if m.name == lora)
    record = FormRecord(
        "a gecko on a {leaf|rock}", "", lora, 640, 1024, 15, 7.0, 500, 2, NO_STYLE, 0.5
    )
    pick_model(page, model, models)  # its size, steps and strength; no guidance, no negative
    expect(page.locator("#cost-line")).to_contain_text("0.5 credits per 1024×1024 image")
    fill_form(page, record, model, models)
    # 640×1024 at 15 steps: 0.5 × 0.625 × 0.75 credits each, 2 variations × 2 images.
    expect(page.locator("#cost-line")).to_contain_text("0.234 credits")
    expect(page.locator("#cost-line")).to_contain_text("4 images")
    generate_and_check(page, app_sandbox, record, model)
    assert app_sandbox.submissions == []  # nothing went to submit_job
    for how in ("reuse", "history", "link"):
        disturb(page, models, record)
        restore(page, app, app_sandbox, how, record, "")
        if how == "reuse":  # the selected image's record names the LoRA
            expect(page.locator("#details")).to_contain_text("FLUX LoRA · gecko")
        expect_form(page, record, model)
        generate_and_check(page, app_sandbox, record, model)
    page.evaluate(f"sessionStorage.setItem('{shared.KEEP_FORM}', '1')")  # keep the saved form
    page.goto(app.url)  # a reload, without a link: the form comes back from this browser
    expect(page.locator("#cost-line")).to_contain_text("0.234 credits")
    expect_form(page, record, model)
    generate_and_check(page, app_sandbox, record, model)
