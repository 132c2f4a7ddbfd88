"""Body of GET /training: topics to teach, ranked, each with the articles to teach them."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

TopicKind = Literal["first_level_fix", "misrouted", "firm_not_helpful", "firm_reassigned"]


class TeachArticle(BaseModel):
    slug: str
    title: str


class TrainingTopic(BaseModel):
    kind: TopicKind = Field(
        description="first_level_fix: escalated although a first-level fix existed; "
        "misrouted: sent to one team, solved by another, again and again; firm_not_helpful: "
        "an article shared with the firm marked not helpful; firm_reassigned: a firm's "
        "escalations that moved to another team."
    )
    topic: str = Field(description="The article's title, or `first team -> final team`.")
    team: str | None = Field(
        description="The team the topic concerns (the article's owner, "
        "or the team the tickets went to first)."
    )
    final_team: str | None = Field(default=None, description="For routing topics.")
    firm: str | None = None
    count: int = Field(description="Tickets (or marks, for firm_not_helpful) behind it.")
    articles: list[TeachArticle] = Field(
        description="What to teach: the article itself, or "
        "the final team's charter and its most linked how-tos."
    )


class Training(BaseModel):
    start: date
    end: date
    team: str | None
    first_level: list[TrainingTopic] | None = Field(description="Staff only.")
    routing: list[TrainingTopic] | None = Field(description="Staff only.")
    firms: list[TrainingTopic] = Field(description="Per firm; a firm sees only its own.")
