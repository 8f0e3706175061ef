"""HTTP routes for brokers, deal pipelines, technology contracts and feedback on matches."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import Parameter, QueryParameter
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.api import idempotency
from matchmaker.api.files import XLSX, gives, takes
from matchmaker.api.idempotency import IdempotencyKey
from matchmaker.api.params import IdFilter, Limit, Offset, Page, PathId, RegionFilter
from matchmaker.api.patterns import END
from matchmaker.brokerage import contracts, feedback, pipelines, registry, registry_io, submission
from matchmaker.brokerage.schemas import (
    BrokerOut,
    ClaimIn,
    ContractFormIn,
    ContractIn,
    ContractOut,
    ContractSubmissionIn,
    DocumentOut,
    FeedbackIn,
    FeedbackOut,
    MoveIn,
    PipelineDetail,
    PipelineOut,
    RegisterIn,
    RegistrationIn,
    RegistryImportOut,
    ReturnIn,
    broker_out,
    contract_out,
    document_out,
    feedback_out,
    pipeline_detail,
    pipeline_out,
)
from matchmaker.errors import NotFound
from matchmaker.identity.services import Actor

PeriodFilter = Annotated[str | None, Parameter(pattern=contracts.PERIOD_PATTERN,
                                               description="signing period: YYYY, YYYY-Qn or YYYY-MM")]


class BrokerController(Controller):
    path = "/brokers"
    tags = ["brokers"]

    @get("/", operation_id="listBrokers", sync_to_thread=True)
    def list_brokers(self, actor: Actor, session: Session, agency_id: IdFilter = None,
                     level: v.BrokerLevel | None = None, limit: Limit = 100, offset: Offset = 0) -> Page[BrokerOut]:
        """Brokers (技术经纪人) with their agency and certification level (any signed-in user)."""
        rows, total = pipelines.list_brokers(session, agency_id=agency_id, level=level, limit=limit, offset=offset)
        return Page([broker_out(b, agency) for b, agency in rows], total, limit, offset)

    @get("/{broker_id:int}", operation_id="getBroker", sync_to_thread=True)
    def get_broker(self, broker_id: PathId, actor: Actor, session: Session) -> BrokerOut:
        """One broker with agency and level."""
        return broker_out(*pipelines.get_broker(session, broker_id=broker_id))


class PipelineController(Controller):
    path = "/pipelines"
    tags = ["pipelines"]

    @post("/", operation_id="claimPipeline", status_code=201, sync_to_thread=True)
    def claim(self, data: ClaimIn, actor: Actor, session: Session, request: Request,
              idempotency_key: IdempotencyKey = None) -> Response[PipelineDetail]:
        """A broker claims a (demand, achievement) match; 409 when the pair is already claimed."""
        def write() -> PipelineDetail:
            pipeline = pipelines.claim_pipeline(session, actor=actor, demand_id=data.demand_id,
                                                achievement_id=data.achievement_id, note=data.note)
            return pipeline_detail(pipeline, None)

        return _respond(session, request, actor, idempotency_key, data, write)

    @post("/{pipeline_id:int}/moves", operation_id="movePipeline", status_code=201, sync_to_thread=True)
    def move(self, pipeline_id: PathId, data: MoveIn, actor: Actor, session: Session, request: Request,
             idempotency_key: IdempotencyKey = None) -> Response[PipelineDetail]:
        """Move a pipeline one stage on, or end it (declined / lapsed); the holding broker only, admins may lapse."""
        def write() -> PipelineDetail:
            pipeline = pipelines.move_pipeline(session, actor=actor, pipeline_id=pipeline_id, to_stage=data.to_stage,
                                               note=data.note, expected_version=data.expected_version)
            return pipeline_detail(pipeline, None)

        return _respond(session, request, actor, idempotency_key, data, write)

    @post("/{pipeline_id:int}/contract", operation_id="signContract", status_code=201, sync_to_thread=True)
    def sign(self, pipeline_id: PathId, data: ContractIn, actor: Actor, session: Session, request: Request,
             idempotency_key: IdempotencyKey = None) -> Response[ContractOut]:
        """Log the technology contract (技术合同) of a negotiating pipeline and mark the pipeline signed."""
        def write() -> ContractOut:
            contract = contracts.sign_contract(
                session, actor=actor, pipeline_id=pipeline_id, contract_type=data.contract_type,
                amount=data.amount, certified_amount=data.certified_amount, payment_mode=data.payment_mode,
                signed_on=data.signed_on, trial_ends_on=data.trial_ends_on,
                licence_scope=data.licence_scope.value if data.licence_scope else None, exclusive=data.exclusive,
                close_demand=data.close_demand, buyer_region=data.buyer_region,
                seller_region=data.seller_region, note=data.note, expected_version=data.expected_version)
            return contract_out(contract)

        return _respond(session, request, actor, idempotency_key, data, write)

    @get("/", operation_id="listPipelines", sync_to_thread=True)
    def list_pipelines(self, actor: Actor, session: Session, stage: v.PipelineStage | None = None,
                       broker_id: IdFilter = None, demand_id: IdFilter = None, achievement_id: IdFilter = None,
                       limit: Limit = 100, offset: Offset = 0) -> Page[PipelineOut]:
        """Pipelines: brokers see their own, firms and offices those on their records, admins and analysts all."""
        rows, total = pipelines.list_pipelines(session, actor=actor, stage=stage, broker_id=broker_id,
                                               demand_id=demand_id, achievement_id=achievement_id,
                                               limit=limit, offset=offset)
        return Page([pipeline_out(p) for p in rows], total, limit, offset)

    @get("/{pipeline_id:int}", operation_id="getPipeline", sync_to_thread=True)
    def get_pipeline(self, pipeline_id: PathId, actor: Actor, session: Session) -> PipelineDetail:
        """One pipeline with every move (who, when, from, to, why) and its contract's id once signed."""
        return pipeline_detail(*pipelines.get_pipeline(session, actor=actor, pipeline_id=pipeline_id))


class ContractController(Controller):
    path = "/contracts"
    tags = ["contracts"]

    @get("/", operation_id="listContracts", sync_to_thread=True)
    def list_contracts(self, actor: Actor, session: Session, period: PeriodFilter = None, region: RegionFilter = None,
                       contract_type: Annotated[v.ContractType | None, QueryParameter(name="type")] = None,
                       broker_id: IdFilter = None, limit: Limit = 100, offset: Offset = 0) -> Page[ContractOut]:
        """Contracts newest first: analysts and admins see all, brokers their own, organisations those they are party to."""
        rows, total = contracts.list_contracts(session, actor=actor, period=period, region=region,
                                               contract_type=contract_type, broker_id=broker_id,
                                               limit=limit, offset=offset)
        return Page([contract_out(c) for c in rows], total, limit, offset)

    @get("/{contract_id:int}", operation_id="getContract", sync_to_thread=True)
    def get_contract(self, contract_id: PathId, actor: Actor, session: Session) -> ContractOut:
        """One contract, for those who may see it."""
        contract = contracts.get_contract(session, actor=actor, contract_id=contract_id)
        document = submission.document_of(session, contract_id)
        return contract_out(contract, document.sha256 if document else None)

    @post("/", operation_id="submitContract", status_code=201, sync_to_thread=True)
    def submit(self, data: ContractSubmissionIn, actor: Actor, session: Session, request: Request,
               idempotency_key: IdempotencyKey = None) -> Response[ContractOut]:
        """The seller or the buyer submits a contract for registration (技术合同认定登记) with the registration form's
        fields, brokered here or not; it waits for a registrar of the parties' region."""
        def write() -> ContractOut:
            values = msgspec.structs.asdict(data)
            seller_id, buyer_id = values.pop("seller_id"), values.pop("buyer_id")
            contract = submission.submit_contract(session, actor=actor, values=_filled(values),
                                                  seller_id=seller_id, buyer_id=buyer_id)
            return contract_out(contract)

        return _respond(session, request, actor, idempotency_key, data, write)

    @post("/import", operation_id="importContracts", status_code=201, sync_to_thread=True,
          operation_class=takes("contracts as docs/registry.md's columns, all imported or none",
                                csv="CSV (UTF-8, UTF-8 with BOM or GBK) with the export's header row",
                                xlsx="an Excel workbook: the first sheet, the export's header row"))
    def import_contracts(self, request: Request, body: bytes, actor: Actor, session: Session,
                         fmt: Annotated[str | None, QueryParameter(name="format", pattern="^(csv|xlsx)" + END)] = None
                         ) -> RegistryImportOut:
        """Registered (or waiting) contracts from an .xlsx or CSV (UTF-8, BOM or GBK) with the columns of the
        export; registrars only. Every row is checked; any problem and nothing is written (422, one per row)."""
        media = request.content_type[0]
        fmt = fmt or ("xlsx" if media.endswith("spreadsheetml.sheet") else "csv")
        with session.begin():
            result = registry_io.import_as_registrar(session, actor=actor, data=body, fmt=fmt)
        return RegistryImportOut(result.contracts, result.new_organisations)

    @get("/export", operation_id="exportContracts", sync_to_thread=True,
         operation_class=gives(xlsx="the registry as a workbook", csv="the registry as CSV, UTF-8 with a BOM"))
    def export_contracts(self, actor: Actor, session: Session,
                         fmt: Annotated[str, QueryParameter(name="format", pattern="^(csv|xlsx)" + END)] = "xlsx"
                         ) -> Response[bytes]:
        """The registry of the registrar's market as .xlsx, or CSV in UTF-8 with a BOM (formulas escaped)."""
        with session.begin():
            data, _ = registry_io.export_as_registrar(session, actor=actor, fmt=fmt)
        media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="contracts.{fmt}"'})

    @put("/{contract_id:int}", operation_id="amendContract", sync_to_thread=True)
    def amend(self, contract_id: PathId, data: ContractFormIn, actor: Actor, session: Session) -> ContractOut:
        """A party corrects a contract that is not registered yet (a returned one waits again)."""
        with session.begin():
            contract = submission.amend_contract(session, actor=actor, contract_id=contract_id,
                                                 values=_filled(msgspec.structs.asdict(data)))
            document = submission.document_of(session, contract_id)
            return contract_out(contract, document.sha256 if document else None)

    @put("/{contract_id:int}/document", operation_id="attachContractDocument", sync_to_thread=True,
         operation_class=takes("the signed contract", pdf="the contract as a PDF (at most 20 MB)"))
    def attach(self, contract_id: PathId, request: Request, body: bytes, actor: Actor, session: Session,
               filename: Annotated[str, QueryParameter(max_length=200)] = "contract.pdf") -> DocumentOut:
        """The signed contract as a PDF (Content-Type application/pdf); stored with its SHA-256, replaced until
        the contract is registered."""
        with session.begin():
            return document_out(submission.attach_document(session, actor=actor, contract_id=contract_id,
                                                           filename=filename, content=body))

    @get("/{contract_id:int}/document", operation_id="getContractDocument", sync_to_thread=True,
         operation_class=gives(pdf="the signed contract; X-Checksum-SHA256 is its checksum"))
    def document(self, contract_id: PathId, actor: Actor, session: Session) -> Response[bytes]:
        """The contract's PDF, for those who may see the contract; the X-Checksum-SHA256 header is its checksum."""
        contracts.get_contract(session, actor=actor, contract_id=contract_id)
        document = submission.document_of(session, contract_id)
        if document is None:
            raise NotFound("该合同还没有上传合同文本")
        return Response(document.content, media_type="application/pdf", headers={
            "X-Checksum-SHA256": document.sha256,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.filename)}"})

    @post("/{contract_id:int}/register", operation_id="registerContractNumber", status_code=200, sync_to_thread=True)
    def register_number(self, contract_id: PathId, actor: Actor, session: Session,
                        data: RegisterIn | None = None) -> ContractOut:
        """Register a contract (认定登记): the next number of the registering office's sequence for the year (the
        registrar's market, else the seller's city), without gaps; analysts of the parties' region and admins. The
        optional body certifies the 技术交易额 (at most the amount), replacing what the parties declared."""
        certified = Decimal(data.certified_amount) if data and data.certified_amount else None
        with session.begin():
            return contract_out(registry.register(session, actor=actor, contract_id=contract_id,
                                                  certified_amount=certified))

    @post("/{contract_id:int}/return", operation_id="returnContract", status_code=200, sync_to_thread=True)
    def return_contract(self, contract_id: PathId, data: ReturnIn, actor: Actor, session: Session) -> ContractOut:
        """Send a contract back to its parties with the reasons (registrars); it can be registered later."""
        with session.begin():
            return contract_out(registry.return_for_correction(session, actor=actor, contract_id=contract_id,
                                                               reason=data.reason))

    @patch("/{contract_id:int}/registration", operation_id="registerContract", sync_to_thread=True)
    def register(self, contract_id: PathId, data: RegistrationIn, actor: Actor, session: Session) -> ContractOut:
        """Record a contract's registration number (认定登记) and date (admins); a number already used is a 409."""
        with session.begin():
            contract = contracts.register_contract(session, actor=actor, contract_id=contract_id,
                                                   registration_number=data.registration_number,
                                                   registered_on=data.registered_on)
            return contract_out(contract)


class FeedbackController(Controller):
    path = "/feedback"
    tags = ["feedback"]

    @post("/", operation_id="giveFeedback", status_code=201, sync_to_thread=True)
    def give(self, data: FeedbackIn, actor: Actor, session: Session, request: Request,
             idempotency_key: IdempotencyKey = None) -> Response[FeedbackOut]:
        """A verdict on a match by the demand's firm, the achievement's office or a broker (reason when irrelevant)."""
        def write() -> FeedbackOut:
            verdict = feedback.give_feedback(session, actor=actor, demand_id=data.demand_id,
                                             achievement_id=data.achievement_id, relevant=data.relevant,
                                             reason=data.reason, note=data.note)
            return feedback_out(verdict)

        return _respond(session, request, actor, idempotency_key, data, write)

    @get("/", operation_id="listFeedback", sync_to_thread=True)
    def list_feedback(self, actor: Actor, session: Session, demand_id: IdFilter = None,
                      achievement_id: IdFilter = None, relevant: bool | None = None,
                      limit: Limit = 100, offset: Offset = 0) -> Page[FeedbackOut]:
        """Feedback on matches (admins and analysts), for the matcher to learn from."""
        rows, total = feedback.list_feedback(session, actor=actor, demand_id=demand_id, achievement_id=achievement_id,
                                             relevant=relevant, limit=limit, offset=offset)
        return Page([feedback_out(f) for f in rows], total, limit, offset)


def _filled(values: dict) -> dict:
    """A typed body's values for the form checker: enums as their codes, empty fields left to the defaults."""
    return {name: (value.value if hasattr(value, "value") else value) for name, value in values.items()
            if value is not None}


def _respond(session: Session, request: Request, actor: Actor, key: str | None, data, write) -> Response:
    return idempotency.created(session, request, user_id=actor.user_id, key=key, data=data, write=write)
