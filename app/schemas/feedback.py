"""Bodies of /feedback: helpful or not, with a flag and a comment."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Flag = Literal["outdated", "wrong", "missing_step"]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    target: str = Field(
        max_length=500, description="`article:<slug>` or `ticket:<source>:<id>`, as in results."
    )
    helpful: bool
    flag: Flag | None = Field(default=None, description="outdated, wrong or missing_step.")
    comment: str | None = Field(default=None, max_length=5000)
    context: Literal["suggest", "search", "article"] = "article"
    query: str | None = Field(default=None, max_length=5000, description="The ticket or query.")


class FeedbackOut(BaseModel):
    id: int
    target: str
    team: str | None
    helpful: bool
    flag: str | None
    task_id: int | None = Field(description="The task opened for the owning team, if any.")
