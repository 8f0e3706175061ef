"""HTTP routes for 科技成果评价 reports on achievements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.api import idempotency
from matchmaker.api.idempotency import IdempotencyKey
from matchmaker.api.params import PathId, Yuan
from matchmaker.catalog import evaluations
from matchmaker.identity.services import Actor


class EvaluationIn(msgspec.Struct, forbid_unknown_fields=True):
    trl_assessed: Annotated[int, msgspec.Meta(ge=1, le=9)]
    value_low: Yuan
    value_high: Yuan
    method: v.EvaluationMethod   # market 市场法 | income 收益法 | cost 成本法
    evaluated_on: dt.date
    signatory: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    conclusion: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class EvaluationOut(msgspec.Struct):
    id: int
    achievement_id: int
    evaluator_id: int
    trl_assessed: int
    value_low: str
    value_high: str
    method: v.EvaluationMethod
    evaluated_on: dt.date
    signatory: str
    conclusion: str


def evaluation_out(r) -> EvaluationOut:
    return EvaluationOut(r.id, r.achievement_id, r.evaluator_id, r.trl_assessed, f"{r.value_low:.2f}",
                         f"{r.value_high:.2f}", v.EvaluationMethod(r.method), r.evaluated_on, r.signatory, r.conclusion)


class EvaluationController(Controller):
    path = "/achievements/{achievement_id:int}/evaluations"
    tags = ["achievements"]

    @get("/", operation_id="listEvaluations", sync_to_thread=True)
    def list_reports(self, achievement_id: PathId, actor: Actor, session: Session) -> list[EvaluationOut]:
        """An achievement's evaluation reports (科技成果评价), the latest first."""
        with session.begin():
            return [evaluation_out(r) for r in evaluations.reports_of(session, actor, achievement_id)]

    @post("/", operation_id="fileEvaluation", status_code=201, sync_to_thread=True)
    def file(self, achievement_id: PathId, data: EvaluationIn, actor: Actor, session: Session, request: Request,
             idempotency_key: IdempotencyKey = None) -> Response[EvaluationOut]:
        """A third-party evaluator's expert files a report on a published achievement."""
        def write() -> EvaluationOut:
            return evaluation_out(evaluations.file_report(
                session, actor=actor, achievement_id=achievement_id, trl_assessed=data.trl_assessed,
                value_low=Decimal(data.value_low), value_high=Decimal(data.value_high), method=data.method.value,
                evaluated_on=data.evaluated_on, signatory=data.signatory, conclusion=data.conclusion))

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)
