"""MkDocs hooks: the configuration reference is written from the settings themselves at build time."""

from __future__ import annotations

import dataclasses
import json

MARKER = "<!-- settings table -->"


def settings_table() -> str:
    """A Markdown table of ``RunConfig``'s fields: name, default (and each recipe's), and what it does."""
    from deepfin.finance.pipeline import config

    rows = ["| setting | default | daily recipe | monthly recipe | what it sets |", "| --- | --- | --- | --- | --- |"]
    for field in dataclasses.fields(config.RunConfig):
        if field.default is not dataclasses.MISSING:
            default = field.default
        else:
            default = field.default_factory()
        help_text = config.SETTING_HELP.get(field.name)
        if not help_text:
            raise ValueError(f"RunConfig.{field.name} has no entry in deepfin.finance.pipeline.config.SETTING_HELP")
        by_recipe = [config.RECIPE_DEFAULTS[recipe].get(field.name, "") for recipe in ("daily", "monthly")]
        cells = [f"`{field.name}`", _value(default), *(_value(v) if v != "" else "" for v in by_recipe),
                 help_text.replace("|", "\\|").replace("\n", " ")]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _value(value) -> str:
    if value is None:
        return "per recipe"
    if isinstance(value, dict) and len(json.dumps(value)) > 40:
        return "see below"
    return f"`{json.dumps(value)}`"


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (MkDocs's hook signature)
    """Put the settings table where the configuration page asks for it."""
    return markdown.replace(MARKER, settings_table()) if MARKER in markdown else markdown
