"""What the pages share, built once in the app factory: templates, catalogues, sessions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.settings import Settings
from app.web.i18n import load_translations
from app.web.sessions import SessionCodec, session_secret

WEB_DIR = Path(__file__).parent
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


@dataclass(frozen=True)
class Web:
    """The pages' parts; on `app.state.stellwerk_web`, read through `web_of`."""

    templates: Environment
    translations: dict[str, NullTranslations]
    sessions: SessionCodec


def template_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(("html",), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # Undefined names fail loudly in tests instead of rendering as empty text.
        undefined=StrictUndefined,
    )


def build_web(settings: Settings) -> Web:
    return Web(
        templates=template_environment(),
        translations=load_translations(),
        sessions=SessionCodec(
            session_secret(settings), max_age_seconds=round(settings.session_hours * 3600)
        ),
    )


def web_of(app: object) -> Web:
    web = getattr(getattr(app, "state", None), "stellwerk_web", None)
    if not isinstance(web, Web):
        raise TypeError(f"{app!r} has no web pages (no Web on its state)")
    return web
