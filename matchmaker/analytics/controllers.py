"""HTTP routes for market analytics (analysts and admins): JSON by default, CSV with ?format=csv."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from litestar import Controller, Response, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import Parameter
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.analytics.funnel import Funnel, funnel
from matchmaker.analytics.league import BrokerStanding, broker_league
from matchmaker.analytics.local_conversion import LocalConversionReport, local_conversion
from matchmaker.analytics.registry_report import RegistryReport, registry_report, report_title, workbook
from matchmaker.analytics.tables import to_csv
from matchmaker.analytics.turnover import TurnoverReport, turnover
from matchmaker.api.files import XLSX, gives
from matchmaker.api.params import IdFilter, ReportFieldCode
from matchmaker.api.patterns import END
from matchmaker.identity import audit
from matchmaker.identity.authentication import roles
from matchmaker.identity.market import narrow_region
from matchmaker.identity.services import Actor

CSV_MEDIA_TYPE = "text/csv"  # Litestar adds "; charset=utf-8" to text/* types itself

Format = Annotated[Literal["json", "csv"], Parameter(description="json (default) or csv, a header row then rows")]
DateFrom = Annotated[dt.date | None, Parameter(description="first day included (YYYY-MM-DD)")]
DateTo = Annotated[dt.date | None, Parameter(description="last day included (YYYY-MM-DD)")]
RegionCode = Annotated[str | None, Parameter(pattern=r"^[0-9]{4}00" + END, description="a province (xx0000) or city (xxxx00) "
                                                                             "GB/T 2260 code")]
FieldCode = Annotated[ReportFieldCode | None, Parameter(description="technology field code, or 'unclassified'")]
Level = Literal["province", "city"]


@dataclass
class JsonOrCsvOperation(Operation):
    """An analytics operation: its 200 is JSON, or CSV (a header row, then rows) with ?format=csv."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content["text/csv"] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))


def _respond(result, output: str, filename: str, session: Session, actor: Actor) -> Response:
    if output == "csv":   # a file leaves the platform: an export, in the audit log
        audit.record(session, audit.EXPORTED, actor=actor, subject=f"analytics:{filename}", format="csv")
        session.commit()
        return Response(to_csv(result), media_type=CSV_MEDIA_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    return Response(result)


class AnalyticsController(Controller):
    path = "/analytics"
    tags = ["analytics"]
    guards = [roles(v.Role.ANALYST, v.Role.ADMIN)]  # noqa: RUF012 - Litestar's own attribute

    @get("/turnover", operation_id="getTurnover", operation_class=JsonOrCsvOperation,
          sync_to_thread=True)
    def turnover(self, actor: Actor, session: Session, format: Format = "json",
                 by: Annotated[str, Parameter(pattern=r"^[a-z]+(,[a-z]+)*" + END,
                                              description="comma-separated: period, region, field, type")] = "period",
                 period: Literal["month", "quarter", "year"] = "month", region_level: Level = "province",
                 side: Literal["seller", "buyer"] = "seller", date_from: DateFrom = None, date_to: DateTo = None,
                 region: RegionCode = None, field: FieldCode = None) -> Response[TurnoverReport]:
        """Technology-contract turnover (成交额, 核定技术交易额) by period of signing, region, field, type."""
        result = turnover(session, by=by.split(","), period=period, region_level=region_level, side=side,
                                   date_from=date_from, date_to=date_to, region=narrow_region(actor, region), field=field)
        return _respond(result, format, "turnover", session, actor)

    @get("/local-conversion", operation_id="getLocalConversion", operation_class=JsonOrCsvOperation,
          sync_to_thread=True)
    def local_conversion(self, actor: Actor, session: Session, format: Format = "json", level: Level | None = None,
                         region: RegionCode = None, date_from: DateFrom = None,
                         date_to: DateTo = None) -> Response[LocalConversionReport]:
        """Local conversion rate (本地转化率): contracts sold and bought inside a region ÷ contracts sold from it."""
        result = local_conversion(session, level=level, region=narrow_region(actor, region), date_from=date_from,
                                  date_to=date_to)
        return _respond(result, format, "local-conversion", session, actor)

    @get("/registry", operation_id="getRegistryReport", sync_to_thread=True,
         operation_class=gives(keep_json=True, xlsx="the report's five tables as sheets (format=xlsx)"))
    def registry(self, actor: Actor, session: Session,
                 format: Annotated[Literal["json", "xlsx"], Parameter(description="json (default) or xlsx")] = "json",
                 date_from: DateFrom = None, date_to: DateTo = None, region: RegionCode = None
                 ) -> Response[RegistryReport]:
        """Registered contracts (登记合同) by quarter and year of registration, by region and field, and the flows in
        and out of each region (本地, 外省, 境外); the quarterly and annual tables authorities ask for, or all of
        it as an .xlsx workbook."""
        region = narrow_region(actor, region)
        result = registry_report(session, date_from=date_from, date_to=date_to, region=region)
        if format == "xlsx":
            audit.record(session, audit.EXPORTED, actor=actor, subject="analytics:registry", format="xlsx")
            session.commit()
            data = workbook(result, title=report_title(result))
            return Response(data, media_type=XLSX, headers={"Content-Disposition": 'attachment; filename="registry.xlsx"'})
        return Response(result)

    @get("/funnel", operation_id="getFunnel", operation_class=JsonOrCsvOperation,
          sync_to_thread=True)
    def funnel(self, actor: Actor, session: Session, format: Format = "json", date_from: DateFrom = None,
               date_to: DateTo = None, broker_id: IdFilter = None,
               field: FieldCode = None) -> Response[Funnel]:
        """match → claimed → contacted → negotiating → signed: counts, conversion, median days, exits."""
        result = funnel(session, date_from=date_from, date_to=date_to, broker_id=broker_id, field=field,
                        region=narrow_region(actor, None))
        return _respond(result, format, "funnel", session, actor)

    @get("/brokers", operation_id="getBrokerLeague", operation_class=JsonOrCsvOperation,
          sync_to_thread=True)
    def brokers(self, actor: Actor, session: Session, format: Format = "json", date_from: DateFrom = None,
                date_to: DateTo = None, field: FieldCode = None,
                limit: Annotated[int, Parameter(ge=1, le=1000)] = 50) -> Response[list[BrokerStanding]]:
        """Broker league table with the credit score (信用积分) computed from outcomes, best first."""
        result = broker_league(session, date_from=date_from, date_to=date_to, field=field, limit=limit,
                               region=narrow_region(actor, None))
        return _respond(result, format, "brokers", session, actor)
