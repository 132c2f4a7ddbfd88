"""Training needs (issue 12, item 4): where first level escalated although a first-level
fix existed, where tickets were routed wrongly again and again, and per contractor firm the
shared articles marked not helpful and its escalations that moved on. Each list is one
GROUP BY; definitions in docs/KPIS.md."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true, tuple_
from sqlalchemy.orm import Session

from app.schemas.training import TeachArticle, Training, TrainingTopic
from app.services.firms import Firms, counts_for, load_firms, shared_with, visible_teams
from app.services.kpis_firms import involving, outcome_firm
from app.services.kpis_sql import Window, window
from app.services.visibility import Visibility
from db.models import (
    ApiKey,
    Article,
    EscalationOutcome,
    Feedback,
    FixDay,
    SolutionLink,
    utcnow,
)

MAX_TOPICS = 20
# "Again and again": a pair of teams counts as a routing topic from its second ticket on.
MIN_REPEATS = 2
ARTICLES_PER_TOPIC = 3
ARTICLE_PREFIX = "article:"


def _first_level_how_to() -> ColumnElement[bool]:
    """A how-to open to first level (front matter `first_level` absent or true)."""
    flag = Article.front_matter["first_level"].as_boolean()
    return and_(Article.kind == "article", or_(flag.is_(None), flag.is_(True)))


def first_level_topics(session: Session, win: Window) -> list[TrainingTopic]:
    """How-tos behind escalations first level could have solved, most tickets first: the
    escalated tickets whose case for a first-level how-to (first offered, or linked) dates
    from the range (the `fix_days` rollup: ~days x how-tos rows)."""
    day = FixDay
    # Summed per how-to first (~how-tos rows), then joined: neither database then probes
    # the range's days once per article.
    per_slug = (
        select(day.slug, func.sum(day.tickets).label("tickets"))
        .where(day.day >= win.start, day.day <= win.end)
        .group_by(day.slug)
        .subquery()
    )
    query = (
        select(Article.slug, Article.title, Article.team, per_slug.c.tickets)
        .join(per_slug, per_slug.c.slug == Article.slug)
        .where(_first_level_how_to())
        .order_by(per_slug.c.tickets.desc(), Article.slug)
        .limit(MAX_TOPICS)
    )
    if win.team:
        query = query.where(Article.team == win.team)
    return [
        TrainingTopic(
            kind="first_level_fix",
            topic=title,
            team=team,
            count=int(n),
            articles=[TeachArticle(slug=slug, title=title)],
        )
        for slug, title, team, n in session.execute(query)
    ]


def _moved(scope: ColumnElement[bool]) -> Select[str, str, int]:
    outcome = EscalationOutcome
    start = func.coalesce(outcome.first_team, outcome.suggested_team)
    count = func.count().label("tickets")
    return (
        select(start.label("from_team"), outcome.final_team, count)
        .where(start.is_not(None), start != outcome.final_team, scope)
        .group_by(start, outcome.final_team)
        .order_by(count.desc(), start, outcome.final_team)
    )


def _teach_for_pairs(
    session: Session, win: Window, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], list[TeachArticle]]:
    """Per (first, final) team pair: the final team's charter and its most linked how-tos
    on those very tickets."""
    if not keys:
        return {}
    outcome = EscalationOutcome
    start = func.coalesce(outcome.first_team, outcome.suggested_team)
    # One tuple IN, not an OR per pair: the range index decides the scan, not the teams.
    wanted = tuple_(start, outcome.final_team).in_(keys)
    count = func.count().label("links")
    linked = session.execute(
        select(start, outcome.final_team, Article.slug, Article.title, count)
        .join(
            SolutionLink,
            and_(
                SolutionLink.ticket_source == outcome.ticket_source,
                SolutionLink.ticket_id == outcome.ticket_id,
            ),
        )
        .join(Article, Article.slug == SolutionLink.article_slug)
        .where(wanted, win.within(outcome.created_at))
        .group_by(start, outcome.final_team, Article.slug, Article.title)
        .order_by(count.desc(), Article.slug)
    )
    charters = {
        team: TeachArticle(slug=slug, title=title)
        for team, slug, title in session.execute(
            select(Article.team, Article.slug, Article.title).where(
                Article.kind == "team",
                Article.status == "published",
                Article.team.in_({b for _, b in keys}),
            )
        )
    }
    taught: dict[tuple[str, str], list[TeachArticle]] = {
        (a, b): [charters[b]] if b in charters else [] for a, b in keys
    }
    for a, b, slug, title, _ in linked:
        articles = taught[(a, b)]
        if len(articles) <= ARTICLES_PER_TOPIC and all(t.slug != slug for t in articles):
            articles.append(TeachArticle(slug=slug, title=title))
    return taught


def _team_filter(win: Window) -> ColumnElement[bool]:
    if not win.team:
        return true()
    outcome = EscalationOutcome
    start = func.coalesce(outcome.first_team, outcome.suggested_team)
    return or_(start == win.team, outcome.final_team == win.team)


def routing_topics(session: Session, win: Window) -> list[TrainingTopic]:
    """Team pairs tickets went wrongly between at least MIN_REPEATS times."""
    scope = and_(win.within(EscalationOutcome.created_at), _team_filter(win))
    query = _moved(scope).having(func.count() >= MIN_REPEATS).limit(MAX_TOPICS)
    rows = [(str(a), str(b), int(n)) for a, b, n in session.execute(query)]
    taught = _teach_for_pairs(session, win, [(a, b) for a, b, _ in rows])
    return [
        TrainingTopic(
            kind="misrouted",
            topic=f"{a} -> {b}",
            team=a,
            final_team=b,
            count=n,
            articles=taught[(a, b)],
        )
        for a, b, n in rows
    ]


def _not_helpful(
    session: Session, win: Window, firms: Firms, visible: list[str]
) -> list[TrainingTopic]:
    """Per firm, its shared articles with not-helpful marks by staff or the firm itself."""
    shared = shared_with(firms, visible)
    if not shared:
        return []
    slug = func.substr(Feedback.target, len(ARTICLE_PREFIX) + 1)
    query = (
        select(
            Feedback.target, Article.slug, Article.title, Article.team, ApiKey.company, func.count()
        )
        .select_from(Feedback)
        .join(Article, Article.slug == slug)
        .outerjoin(ApiKey, ApiKey.name == Feedback.actor)
        .where(
            Feedback.helpful.is_(False),
            Feedback.target.in_(shared),
            win.within(Feedback.created_at),
        )
        .group_by(Feedback.target, Article.slug, Article.title, Article.team, ApiKey.company)
    )
    if win.team:
        query = query.where(Article.team == win.team)
    marks: dict[tuple[str, str, str, str | None], int] = {}
    for target, s, title, team, company, n in session.execute(query):
        for firm in shared[target]:
            if counts_for(firms, firm, company):
                key = (firm, s, title, team)
                marks[key] = marks.get(key, 0) + int(n)
    return [
        TrainingTopic(
            kind="firm_not_helpful",
            topic=title,
            team=team,
            firm=firm,
            count=n,
            articles=[TeachArticle(slug=s, title=title)],
        )
        for (firm, s, title, team), n in marks.items()
    ]


def _reassigned(
    session: Session, win: Window, firms: Firms, visible: list[str]
) -> list[TrainingTopic]:
    """Per firm, the team pairs its escalations moved between (its final team's firm,
    else its first team's)."""
    teams = visible_teams(firms, visible)
    if not teams:
        return []
    outcome = EscalationOutcome
    firm = outcome_firm(firms, visible).label("firm")
    count = func.count().label("tickets")
    query = (
        select(firm, outcome.first_team, outcome.final_team, count)
        .where(
            involving(teams),
            outcome.first_team.is_not(None),
            outcome.first_team != outcome.final_team,
            win.within(outcome.created_at),
            _team_filter(win),
        )
        .group_by(firm, outcome.first_team, outcome.final_team)
        .order_by(firm, count.desc(), outcome.first_team, outcome.final_team)
    )
    rows = [(str(f), str(a), str(b), int(n)) for f, a, b, n in session.execute(query)]
    taught = _teach_for_pairs(session, win, sorted({(a, b) for _, a, b, _ in rows}))
    return [
        TrainingTopic(
            kind="firm_reassigned",
            topic=f"{a} -> {b}",
            team=a,
            final_team=b,
            firm=f,
            count=n,
            articles=taught[(a, b)],
        )
        for f, a, b, n in rows
    ]


def training(
    session: Session, visibility: Visibility, *, start: date, end: date, team: str | None = None
) -> Training:
    """The training topics the caller may see over days `start` to `end` (UTC)."""
    win = window(session, start=start, end=end, interval="week", team=team, now=utcnow())
    firms = load_firms(session)
    visible = firms.visible(visibility.principal)
    staff = visibility.sees_tickets
    by_firm = _not_helpful(session, win, firms, visible) + _reassigned(session, win, firms, visible)
    by_firm.sort(key=lambda t: (t.firm or "", -t.count, t.kind, t.topic))
    return Training(
        start=start,
        end=end,
        team=team,
        first_level=first_level_topics(session, win) if staff else None,
        routing=routing_topics(session, win) if staff else None,
        firms=by_firm,
    )
