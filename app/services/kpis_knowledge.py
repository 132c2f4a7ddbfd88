"""The knowledge-base KPI families (KCS: link rate, reuse, article quality, the backlog).

Staff only: they count internal tickets, feedback and tasks. Each is one GROUP BY (the
link rate over its per-day rollup)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from app.schemas.kpis import ArticleFeedbackKpis, DurationKpis, ReuseKpis, ShareKpis, TaskKpis
from app.services.kpis_sql import Window, rounded, share, share_row
from db.models import Article, ArticleVersion, Feedback, SolutionLink, Task, TicketDay
from db.rollup_sql import as_day

MAX_ARTICLES = 50


def link_rate(session: Session, win: Window) -> list[ShareKpis]:
    """Resolved tickets of the period (by resolution date) with a solution link, per ticket
    team, from the per-day rollup (`ticket_days`)."""
    day = TicketDay
    query = select(day.day, day.team, day.resolved, day.linked).where(
        day.day >= win.start, day.day <= win.end
    )
    if win.team:
        query = query.where(day.team == win.team)
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for d, team, resolved, linked in session.execute(query):
        row = totals[(win.bucket(as_day(d)), team)]
        row[0] += int(resolved)
        row[1] += int(linked)
    return [share_row(p, t or None, n, k) for (p, t), (n, k) in sorted(totals.items())]


def reuse(session: Session, win: Window) -> list[ReuseKpis]:
    """Links made (reuse) against how-tos created, per period and the article's team."""
    link_period = win.period(SolutionLink.created_at).label("period")
    links = (
        select(link_period, Article.team, func.count())
        .join(Article, Article.slug == SolutionLink.article_slug)
        .where(win.within(SolutionLink.created_at))
        .group_by(link_period, Article.team)
    )
    made_period = win.period(Article.created_at).label("period")
    made = (
        select(made_period, Article.team, func.count())
        .where(Article.kind == "article", win.within(Article.created_at))
        .group_by(made_period, Article.team)
    )
    if win.team:
        links = links.where(Article.team == win.team)
        made = made.where(Article.team == win.team)
    counts: dict[tuple[str, str | None], list[int]] = {}
    for p, t, n in session.execute(links):
        counts.setdefault((str(p), t), [0, 0])[0] = int(n)
    for p, t, n in session.execute(made):
        counts.setdefault((str(p), t), [0, 0])[1] = int(n)
    return [
        ReuseKpis(
            period=p, team=t, reused=r, created=c, reuse_per_create=rounded(r / c, 4) if c else None
        )
        for (p, t), (r, c) in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]


def never_reused(session: Session, win: Window) -> list[ShareKpis]:
    """Published how-tos without any solution link, per team (today)."""
    used = select(1).where(SolutionLink.article_slug == Article.slug).exists()
    query = (
        select(Article.team, func.count(), func.sum(case((~used, 1), else_=0)))
        .where(Article.kind == "article", Article.status == "published")
        .group_by(Article.team)
        .order_by(Article.team)
    )
    if win.team:
        query = query.where(Article.team == win.team)
    return [share_row(None, t, n, k) for t, n, k in session.execute(query)]


def draft_to_published(session: Session, win: Window) -> list[DurationKpis]:
    """Versions approved in the period, and the mean hours from their draft to approval."""
    version = ArticleVersion
    period = win.period(version.reviewed_at).label("period")
    hours = win.hours_between(version.created_at, version.reviewed_at)
    query = (
        select(period, Article.team, func.count(), func.avg(hours))
        .join(Article, Article.id == version.article_id)
        .where(
            version.state.in_(("published", "superseded")),
            version.reviewed_at.is_not(None),
            win.within(version.reviewed_at),
        )
        .group_by(period, Article.team)
        .order_by(period, Article.team)
    )
    if win.team:
        query = query.where(Article.team == win.team)
    return [
        DurationKpis(period=str(p), team=t, published=int(n), mean_hours=rounded(h))
        for p, t, n, h in session.execute(query)
    ]


def stale(session: Session, win: Window) -> list[ShareKpis]:
    """Published articles past their review date, per team (today)."""
    today: date = win.now.date()
    overdue = and_(Article.review_by.is_not(None), Article.review_by < today)
    query = (
        select(Article.team, func.count(), func.sum(case((overdue, 1), else_=0)))
        .where(Article.status == "published")
        .group_by(Article.team)
        .order_by(Article.team)
    )
    if win.team:
        query = query.where(Article.team == win.team)
    return [share_row(None, t, n, k) for t, n, k in session.execute(query)]


def feedback_by_team(session: Session, win: Window) -> list[ShareKpis]:
    """Helpful marks of all marks per period and the owning team of what was marked."""
    period = win.period(Feedback.created_at).label("period")
    query = (
        select(period, Feedback.team, func.count(), func.sum(case((Feedback.helpful, 1), else_=0)))
        .where(win.within(Feedback.created_at))
        .group_by(period, Feedback.team)
        .order_by(period, Feedback.team)
    )
    if win.team:
        query = query.where(Feedback.team == win.team)
    return [share_row(p, t, n, k) for p, t, n, k in session.execute(query)]


def feedback_by_article(session: Session, win: Window) -> list[ArticleFeedbackKpis]:
    """Helpful share per marked article or ticket over the range, most marked first."""
    total = func.count().label("total")
    query = (
        select(
            Feedback.target,
            func.max(Feedback.team),
            total,
            func.sum(case((Feedback.helpful, 1), else_=0)),
        )
        .where(win.within(Feedback.created_at))
        .group_by(Feedback.target)
        .order_by(total.desc(), Feedback.target)
        .limit(MAX_ARTICLES)
    )
    if win.team:
        query = query.where(Feedback.team == win.team)
    return [
        ArticleFeedbackKpis(
            target=target,
            team=t,
            total=int(n),
            helpful=int(k or 0),
            share=share(int(k or 0), int(n)),
        )
        for target, t, n, k in session.execute(query)
    ]


def open_tasks(session: Session, win: Window) -> list[TaskKpis]:
    """Open tasks per team today, with their mean and largest age in days."""
    age = win.days_since(Task.created_at)
    query = (
        select(Task.team, func.count(distinct(Task.id)), func.avg(age), func.max(age))
        .where(Task.status == "open")
        .group_by(Task.team)
        .order_by(Task.team)
    )
    if win.team:
        query = query.where(Task.team == win.team)
    return [
        TaskKpis(team=t, open=int(n), mean_age_days=rounded(a), max_age_days=rounded(m))
        for t, n, a, m in session.execute(query)
    ]
