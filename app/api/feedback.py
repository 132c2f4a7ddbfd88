"""POST /feedback: helpful or not on a suggestion or article."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.feedback import FeedbackIn, FeedbackOut
from app.services.feedback import give_feedback
from app.services.visibility import visibility_for

router = APIRouter(tags=["feedback"], dependencies=[Depends(current_principal)])


@router.post(
    "/feedback",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    summary="Helpful or not on a suggestion or article; not helpful or a flag opens a task",
)
def give(body: FeedbackIn, session: SessionDep, principal: PrincipalDep) -> FeedbackOut:
    with session.begin():
        return give_feedback(
            session,
            principal=principal,
            visibility=visibility_for(session, principal),
            feedback=body,
        )
