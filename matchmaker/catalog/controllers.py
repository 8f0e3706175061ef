"""HTTP routes for organisations, the achievements and demands libraries, their review workflow, and form reference data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import Parameter, QueryParameter
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.api import idempotency
from matchmaker.api.idempotency import IdempotencyKey
from matchmaker.api.params import FieldFilter, IdFilter, Limit, Offset, Page, PathId, RegionFilter, Trl
from matchmaker.api.params import Sort as SortKey
from matchmaker.api.patterns import END
from matchmaker.catalog import access, confidential, directory, review, services
from matchmaker.catalog.schemas import (
    AchievementCreate,
    AchievementOut,
    AchievementUpdate,
    DemandCreate,
    DemandOut,
    DemandUpdate,
    FieldOut,
    GrantIn,
    ImportResult,
    IPRecordIn,
    OrganisationIn,
    OrganisationOut,
    RegionOut,
    ReviewDecision,
)
from matchmaker.catalog.services import ListQuery
from matchmaker.catalog.specs import ACHIEVEMENTS, DEMANDS
from matchmaker.errors import DomainError
from matchmaker.identity.services import Actor

Sort = Annotated[SortKey, Parameter(description="posted_on, updated_at, trl or price; prefix '-' for descending")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_MEDIA_TYPES = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl",
                      "application/x-jsonlines": "jsonl", XLSX: "xlsx"}


@dataclass
class ImportOperation(Operation):
    """The import routes read the raw body (`body: bytes`), which Litestar leaves out of the spec: say what it is."""

    def __post_init__(self) -> None:
        rows = ("the rows of docs/import-export.md, all imported or none; "
                "the format comes from the `format` parameter or this Content-Type")
        self.request_body = RequestBody(required=True, description=rows, content={
            "application/x-ndjson": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING,
                                                                   description="one JSON object per line")),
            "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING,
                                                       description="CSV (UTF-8, UTF-8 with BOM or GBK) with a header "
                                                                   "row of field names")),
            XLSX: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format="binary",
                                                 description="an Excel workbook: the first sheet, a header row")),
        })


def organisation_out(org) -> OrganisationOut:
    return OrganisationOut(org.id, org.external_id, org.name, org.kind, org.credit_code, org.region_code,
                           org.size, org.high_tech, org.industry)


def _modes(modes) -> list[str]:
    return [mode.value for mode in v.TransferMode if mode in (modes or ())]  # enum order: stable output


def achievement_out(row, actor: Actor, readable: set[int] | None = None) -> AchievementOut:
    """`readable`: ids whose confidential detail the actor may read (confidential.confidential_readable); by default
    only the static rule (owner, admin) applies."""
    shown = row.id in readable if readable is not None else access.sees_confidential(actor, row)
    return AchievementOut(
        id=row.id, external_id=row.external_id, title=row.title, summary=row.summary,
        confidential_detail=row.confidential_detail if shown else None,
        keywords=row.keywords, team=row.team, field=row.field_code, trl=row.trl,
        organisation_id=row.organisation_id, region=row.region_code, transfer_modes=_modes(row.transfer_modes),
        pricing_mode=row.pricing_mode, asking_price=row.asking_price, use_first_pay_later=row.use_first_pay_later,
        status=row.status, posted_on=row.posted_on, expires_on=row.expires_on,
        ip_records=[IPRecordIn(ip_type=ip.ip_type, number=ip.number, status=ip.status) for ip in row.ip_records],
        created_at=row.created_at, updated_at=row.updated_at,
        review_note=row.review_note if access.sees_review_note(actor, ACHIEVEMENTS, row) else None,
        pending_changes=row.pending_changes if access.sees_review_note(actor, ACHIEVEMENTS, row) else None,
    )


def demand_out(row, actor: Actor) -> DemandOut:
    return DemandOut(
        id=row.id, external_id=row.external_id, title=row.title, problem=row.problem, targets=row.targets,
        conditions=row.conditions, field=row.field_code, min_trl=row.min_trl, budget_min=row.budget_min,
        budget_max=row.budget_max, cooperation_modes=_modes(row.cooperation_modes), is_challenge=row.is_challenge,
        bounty=row.bounty, deadline=row.deadline, organisation_id=row.organisation_id, region=row.region_code,
        status=row.status, posted_on=row.posted_on, created_at=row.created_at, updated_at=row.updated_at,
        review_note=row.review_note if access.sees_review_note(actor, DEMANDS, row) else None,
        pending_changes=row.pending_changes if access.sees_review_note(actor, DEMANDS, row) else None,
    )


def import_format(request: Request, fmt: str | None) -> str:
    """The body's format: the `format` query parameter, else the Content-Type."""
    if fmt is not None:
        return fmt
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in IMPORT_MEDIA_TYPES:
        return IMPORT_MEDIA_TYPES[media_type]
    reason = "无法判断上传文件的格式，请注明是 CSV、Excel 还是每行一条记录的 JSON 文件（或在请求头中写明文件类型）。"
    raise DomainError.on("format", reason)


class OrganisationController(Controller):
    path = "/organisations"
    tags = ["organisations"]

    @get("/", operation_id="listOrganisations", sync_to_thread=True)
    def list_organisations(self, actor: Actor, session: Session, kind: v.OrganisationKind | None = None,
                           region: RegionFilter = None, q: str | None = None, limit: Limit = 20,
                           offset: Offset = 0) -> Page[OrganisationOut]:
        """Organisations, filtered by kind, region (a province includes its cities) and name."""
        with session.begin():
            rows, total = directory.list_organisations(session, kind=kind, region=region, q=q, limit=limit, offset=offset,
                                                      actor=actor)
            return Page([organisation_out(o) for o in rows], total, limit, offset)

    @get("/{organisation_id:int}", operation_id="getOrganisation", sync_to_thread=True)
    def get_organisation(self, organisation_id: PathId, actor: Actor, session: Session) -> OrganisationOut:
        """One organisation."""
        return organisation_out(directory.get_organisation(session, organisation_id=organisation_id, actor=actor))

    @post("/", operation_id="createOrganisation", status_code=201, sync_to_thread=True)
    def create_organisation(self, data: OrganisationIn, actor: Actor, session: Session, request: Request,
                            idempotency_key: IdempotencyKey = None) -> Response[OrganisationOut]:
        """Register an organisation (admins only)."""
        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=lambda: organisation_out(directory.create_organisation(
                                       session, actor=actor, data=data)))


class AchievementController(Controller):
    path = "/achievements"
    tags = ["achievements"]

    @get("/", operation_id="listAchievements", sync_to_thread=True)
    def list_achievements(self, actor: Actor, session: Session, field: FieldFilter = None, region: RegionFilter = None,
                          trl_min: Trl = None, trl_max: Trl = None, status: v.AchievementStatus | None = None,
                          organisation_id: IdFilter = None, q: str | None = None, sort: Sort = "-posted_on",
                          limit: Limit = 20, offset: Offset = 0, revision: bool = False) -> Page[AchievementOut]:
        """Achievements the caller may see, filtered, sorted and paged; drafts only to their owner and admins.

        revision=true: published achievements whose changes wait for review."""
        query = ListQuery(field, region, trl_min, trl_max, status, organisation_id, q, sort, limit, offset, revision)
        with session.begin():
            rows, total = services.list_records(session, actor=actor, spec=ACHIEVEMENTS, query=query)
            readable = confidential.confidential_readable(session, actor, rows)
            return Page.counted([achievement_out(r, actor, readable) for r in rows], total, limit, offset)

    @post("/", operation_id="createAchievement", status_code=201, sync_to_thread=True)
    def create_achievement(self, data: AchievementCreate, actor: Actor, session: Session, request: Request,
                           idempotency_key: IdempotencyKey = None) -> Response[AchievementOut]:
        """Post a draft achievement for the caller's organisation (offices; admins name the organisation)."""
        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=lambda: achievement_out(services.create_record(
                                       session, actor=actor, spec=ACHIEVEMENTS, data=data), actor))

    @get("/{achievement_id:int}", operation_id="getAchievement", sync_to_thread=True)
    def get_achievement(self, achievement_id: PathId, actor: Actor, session: Session) -> AchievementOut:
        """One achievement; the confidential detail only for its owner, brokers and admins."""
        row = services.read_record(session, actor=actor, spec=ACHIEVEMENTS, record_id=achievement_id)
        with session.begin():
            return achievement_out(row, actor, confidential.confidential_readable(session, actor, [row]))

    @patch("/{achievement_id:int}", operation_id="updateAchievement", sync_to_thread=True)
    def update_achievement(self, achievement_id: PathId, data: AchievementUpdate, actor: Actor, session: Session) -> AchievementOut:
        """Change the given fields (owner office or admin). On a published achievement the owner's change waits for
        review (`pending_changes`) while the approved version stays visible; an admin's applies at once."""
        with session.begin():
            row = services.update_record(session, actor=actor, spec=ACHIEVEMENTS, record_id=achievement_id, changes=data)
            return achievement_out(row, actor)

    @post("/{achievement_id:int}/submit", operation_id="submitAchievement", status_code=200, sync_to_thread=True)
    def submit(self, achievement_id: PathId, actor: Actor, session: Session) -> AchievementOut:
        """Send a draft for review (owner)."""
        with session.begin():
            return achievement_out(review.submit_record(session, actor=actor, spec=ACHIEVEMENTS, record_id=achievement_id), actor)

    @post("/{achievement_id:int}/approve", operation_id="approveAchievement", status_code=200, sync_to_thread=True)
    def approve(self, achievement_id: PathId, actor: Actor, session: Session, state: State) -> AchievementOut:
        """Publish a pending achievement (reviewers: admins, analysts); matching demands' owners are told."""
        with session.begin():
            row = review.approve_record(session, actor=actor, spec=ACHIEVEMENTS, record_id=achievement_id,
                                          on_publish=state.on_publish)
            return achievement_out(row, actor)

    @post("/{achievement_id:int}/reject", operation_id="rejectAchievement", status_code=200, sync_to_thread=True)
    def reject(self, achievement_id: PathId, data: ReviewDecision, actor: Actor, session: Session) -> AchievementOut:
        """Send a pending achievement back to draft with a note (reviewers: admins and analysts)."""
        with session.begin():
            row = review.reject_record(session, actor=actor, spec=ACHIEVEMENTS, record_id=achievement_id, note=data.note)
            return achievement_out(row, actor)

    @post("/{achievement_id:int}/withdraw", operation_id="withdrawAchievement", status_code=200, sync_to_thread=True)
    def withdraw(self, achievement_id: PathId, actor: Actor, session: Session) -> AchievementOut:
        """Take an achievement down (owner or admin); it is no longer matched."""
        with session.begin():
            return achievement_out(review.withdraw_record(session, actor=actor, spec=ACHIEVEMENTS, record_id=achievement_id), actor)

    @post("/{achievement_id:int}/transfer", operation_id="markAchievementTransferred", status_code=200, sync_to_thread=True)
    def transfer(self, achievement_id: PathId, actor: Actor, session: Session) -> AchievementOut:
        """Mark a published achievement transferred (owner or admin); it is no longer matched."""
        with session.begin():
            return achievement_out(review.close_record(session, actor=actor, spec=ACHIEVEMENTS, record_id=achievement_id), actor)

    @post("/{achievement_id:int}/grants", operation_id="grantConfidentialDetail", status_code=204, sync_to_thread=True)
    def grant(self, achievement_id: PathId, data: GrantIn, actor: Actor, session: Session) -> None:
        """Let an organisation read this achievement's confidential detail (owner office or admin); logged."""
        with session.begin():
            confidential.grant_confidential(session, actor=actor, achievement_id=achievement_id,
                                        organisation_id=data.organisation_id)

    @post("/import", operation_id="importAchievements", status_code=201, sync_to_thread=True,
          operation_class=ImportOperation)
    def import_achievements(self, request: Request, body: bytes, actor: Actor, session: Session,
                            fmt: Annotated[str | None, QueryParameter(name="format", pattern="^(jsonl|csv|xlsx)" + END)] = None) -> ImportResult:
        """Import a JSONL or CSV body with the CLI's row checks: all rows or none, problems by line and field."""
        with session.begin():
            imported, published = services.import_records(session, actor=actor, spec=ACHIEVEMENTS, body=body,
                                                          fmt=import_format(request, fmt))
        return ImportResult(imported, published)


class DemandController(Controller):
    path = "/demands"
    tags = ["demands"]

    @get("/", operation_id="listDemands", sync_to_thread=True)
    def list_demands(self, actor: Actor, session: Session, field: FieldFilter = None, region: RegionFilter = None,
                     trl_min: Trl = None, trl_max: Trl = None, status: v.DemandStatus | None = None,
                     organisation_id: IdFilter = None, q: str | None = None, sort: Sort = "-posted_on",
                     limit: Limit = 20, offset: Offset = 0, revision: bool = False) -> Page[DemandOut]:
        """Demands the caller may see (TRL filters apply to the minimum TRL; price sorts by budget_max).

        revision=true: published demands whose changes wait for review."""
        query = ListQuery(field, region, trl_min, trl_max, status, organisation_id, q, sort, limit, offset, revision)
        with session.begin():
            rows, total = services.list_records(session, actor=actor, spec=DEMANDS, query=query)
            return Page.counted([demand_out(r, actor) for r in rows], total, limit, offset)

    @post("/", operation_id="createDemand", status_code=201, sync_to_thread=True)
    def create_demand(self, data: DemandCreate, actor: Actor, session: Session, request: Request,
                      idempotency_key: IdempotencyKey = None) -> Response[DemandOut]:
        """Post a draft demand for the caller's firm (firms; admins name the organisation)."""
        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=lambda: demand_out(services.create_record(
                                       session, actor=actor, spec=DEMANDS, data=data), actor))

    @get("/{demand_id:int}", operation_id="getDemand", sync_to_thread=True)
    def get_demand(self, demand_id: PathId, actor: Actor, session: Session) -> DemandOut:
        """One demand."""
        return demand_out(services.read_record(session, actor=actor, spec=DEMANDS, record_id=demand_id), actor)

    @patch("/{demand_id:int}", operation_id="updateDemand", sync_to_thread=True)
    def update_demand(self, demand_id: PathId, data: DemandUpdate, actor: Actor, session: Session) -> DemandOut:
        """Change the given fields (owner firm or admin). On a published demand the owner's change waits for review
        (`pending_changes`) while the approved version stays visible; an admin's applies at once."""
        with session.begin():
            return demand_out(services.update_record(session, actor=actor, spec=DEMANDS, record_id=demand_id, changes=data), actor)

    @post("/{demand_id:int}/submit", operation_id="submitDemand", status_code=200, sync_to_thread=True)
    def submit(self, demand_id: PathId, actor: Actor, session: Session) -> DemandOut:
        """Send a draft for review (owner)."""
        with session.begin():
            return demand_out(review.submit_record(session, actor=actor, spec=DEMANDS, record_id=demand_id), actor)

    @post("/{demand_id:int}/approve", operation_id="approveDemand", status_code=200, sync_to_thread=True)
    def approve(self, demand_id: PathId, actor: Actor, session: Session, state: State) -> DemandOut:
        """Publish a pending demand (reviewers: admins, analysts); matching achievements' owners are told."""
        with session.begin():
            row = review.approve_record(session, actor=actor, spec=DEMANDS, record_id=demand_id,
                                          on_publish=state.on_publish)
            return demand_out(row, actor)

    @post("/{demand_id:int}/reject", operation_id="rejectDemand", status_code=200, sync_to_thread=True)
    def reject(self, demand_id: PathId, data: ReviewDecision, actor: Actor, session: Session) -> DemandOut:
        """Send a pending demand back to draft with a note (reviewers: admins and analysts)."""
        with session.begin():
            return demand_out(review.reject_record(session, actor=actor, spec=DEMANDS, record_id=demand_id,
                                                     note=data.note), actor)

    @post("/{demand_id:int}/withdraw", operation_id="withdrawDemand", status_code=200, sync_to_thread=True)
    def withdraw(self, demand_id: PathId, actor: Actor, session: Session) -> DemandOut:
        """Take a demand down (owner or admin)."""
        with session.begin():
            return demand_out(review.withdraw_record(session, actor=actor, spec=DEMANDS, record_id=demand_id), actor)

    @post("/{demand_id:int}/solve", operation_id="markDemandSolved", status_code=200, sync_to_thread=True)
    def solve(self, demand_id: PathId, actor: Actor, session: Session) -> DemandOut:
        """Mark a published demand solved (owner or admin); it is no longer matched."""
        with session.begin():
            return demand_out(review.close_record(session, actor=actor, spec=DEMANDS, record_id=demand_id), actor)

    @post("/import", operation_id="importDemands", status_code=201, sync_to_thread=True,
          operation_class=ImportOperation)
    def import_demands(self, request: Request, body: bytes, actor: Actor, session: Session,
                       fmt: Annotated[str | None, QueryParameter(name="format", pattern="^(jsonl|csv|xlsx)" + END)] = None) -> ImportResult:
        """Import a JSONL or CSV body with the CLI's row checks: all rows or none, problems by line and field."""
        with session.begin():
            imported, published = services.import_records(session, actor=actor, spec=DEMANDS, body=body,
                                                          fmt=import_format(request, fmt))
        return ImportResult(imported, published)


class ReferenceController(Controller):
    path = "/"
    tags = ["reference"]

    @get("/regions", operation_id="listRegions", sync_to_thread=True)
    def regions(self, actor: Actor, session: Session, parent: RegionFilter = None,
                level: Annotated[str | None, Parameter(pattern="^(province|city|county)" + END)] = None) -> list[RegionOut]:
        """Provinces, or the cities (counties) under `parent`, for forms."""
        return [RegionOut(r.code, r.name, r.level, r.parent_code) for r in directory.list_regions(session, parent=parent, level=level)]

    @get("/fields", operation_id="listTechnologyFields", sync_to_thread=True)
    def fields(self, actor: Actor, session: Session) -> list[FieldOut]:
        """Technology fields, for forms."""
        return [FieldOut(f.code, f.name) for f in directory.list_fields(session)]
