"""``/v1/suggestions``: the register of suggestions and motions over HTTP (a thin door over
``triage.register``), with the same API keys as the rest of the service.

The register is the database of ``TRIAGE_REGISTER_DB`` (a SQLite file path or a SQLAlchemy
URL; default ``register.db`` in the working folder), created beforehand with
``triage register init``. Every change must carry the ``version`` the client last read: a
stale one is refused with 409 ``version_conflict``, so two clients never overwrite each
other. Who made a change is recorded as the API key's label (``api#2``), with the
``actor`` the client names, if any.
"""

import datetime as dt
import os
import threading
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from triage.register.errors import ConflictError, NotFoundError, RegisterError, TransitionError
from triage.text import clean

from service.auth import require_key
from service.codes import Codes
from service.errors import ApiError, ErrorResponse
from service.suggestions_examples import HISTORY, LISTED, STATS, SUGGESTION, created, ok
from service.suggestions_schemas import AnswerIn, ProgressIn, _Change, suggestion_models

if TYPE_CHECKING:  # the register itself (SQLAlchemy) is imported when a route first needs it
    from triage.register import Register

ENV = "TRIAGE_REGISTER_DB"
_lock = threading.Lock()

Ref = Annotated[str, Path(description="number or code of the suggestion / 编号，如 3 或 S-2025-003",
                          examples=["S-2025-003"], max_length=32)]


def get_register(request: Request) -> "Register":
    """The app's register, opened on first use (tests put one in ``app.state.register``)."""
    reg = getattr(request.app.state, "register", None)
    if reg is None:
        from triage.register import Register

        with _lock:
            reg = getattr(request.app.state, "register", None)
            if reg is None:
                try:
                    reg = Register(os.environ.get(ENV))
                except RegisterError as exc:
                    raise ApiError(503, "register_unavailable", clean(str(exc))) from None
                request.app.state.register = reg
    return reg


Reg = Annotated[Any, Depends(get_register)]  # a triage.register.Register


def _actor(request: Request, body: _Change) -> str:
    client = getattr(request.state, "client", None) or "api"
    return f"{clean(body.actor)} ({client})" if body.actor and clean(body.actor) else client


def _call(fn, *args, **kwargs) -> Any:
    """Run one library call, turning its refusals into the API's errors."""
    try:
        return fn(*args, **kwargs)
    except NotFoundError as exc:
        raise ApiError(404, "suggestion_not_found", clean(str(exc))) from None
    except ConflictError as exc:
        raise ApiError(409, "version_conflict", clean(str(exc)), field="version") from None
    except TransitionError as exc:
        raise ApiError(409, "illegal_transition", clean(str(exc)), field="status") from None
    except RegisterError as exc:
        raise ApiError(503, "register_unavailable", clean(str(exc))) from None


_ERRORS = {
    401: "missing or unknown API key / 缺少或无效的 API 密钥",
    404: "no such suggestion / 无此建议或议案",
    409: "version_conflict: changed by someone else since you read it (reload and retry); illegal_transition: not "
         "allowed in its current status / 版本冲突或当前状态不允许此操作",
    413: "request body too large / 请求体过大",
    422: "invalid input: the field is named / 输入无效",
    503: "the register database is not available / 台账数据库不可用",
}


def responses(*statuses: int) -> dict:
    return {s: {"model": ErrorResponse, "description": _ERRORS[s]} for s in statuses}


def build_suggestions_router(codes: Codes) -> APIRouter:
    m = suggestion_models(codes)
    CreateIn, AssignIn, RateIn = m.CreateIn, m.AssignIn, m.RateIn
    r = APIRouter(prefix="/v1/suggestions", tags=["suggestions 建议议案"], dependencies=[Depends(require_key)])
    errs = responses(401, 413, 422, 503)

    @r.get("", response_model=m.SuggestionList, summary="List suggestions and motions / 台账列表",
           responses={**ok(LISTED), **errs},
           description="Filters combine: `overdue` (past the deadline, still owed an answer), `due_within` days, "
                       "`deputy` and `agency` (part of a name), `status` (repeatable), `kind`, `year` (raised), "
                       "`category`, `tier`.\n\n可按逾期、到期天数、代表、单位、状态、类型、年度、类别、层级筛选。")
    def list_suggestions(reg: Reg, overdue: bool = False, due_within: Annotated[int | None, Query(ge=0, le=3650)] = None,
                         deputy: Annotated[str | None, Query(max_length=200)] = None,
                         agency: Annotated[str | None, Query(max_length=200)] = None,
                         status: Annotated[list[codes.status_in] | None, Query()] = None,
                         kind: codes.kind_in | None = None,
                         year: Annotated[int | None, Query(ge=1949, le=2200)] = None,
                         category: codes.category_in | None = None, tier: codes.tier_in | None = None):
        items = _call(reg.list, overdue=overdue, due_within=due_within, deputy=deputy, agency=agency, status=status,
                      kind=kind, year=year, category=category, tier=tier)
        return {"count": len(items), "items": items}

    @r.post("", status_code=201, response_model=m.Suggestion,
            summary="Create from confirmed problems / 由确认问题生成建议或议案",
            responses={**created({**SUGGESTION, "status": "draft", "status_zh": "草稿", "version": 1}), **errs},
            description="A draft suggestion (or motion) from one or more confirmed problems of a screening, keeping "
                        "their opinion ids and enterprises. The `Location` header names the new one.\n\n"
                        "由筛选确认的问题生成建议或议案草稿，保留原意见编号和企业；`Location` 头给出其地址。")
    def create_suggestion(request: Request, response: Response, body: CreateIn, reg: Reg):
        from triage.register import ConfirmedProblem

        problems = [ConfirmedProblem(p.text, p.category, p.tier, tuple(p.enterprises), tuple(p.opinion_ids),
                                     p.problem_id, body.source) for p in body.problems]
        out = _call(reg.create, problems, actor=_actor(request, body), kind=body.kind, title=body.title,
                    category=body.category, tier=body.tier, lead_agency=body.lead_agency,
                    co_organisers=body.co_organisers, supervision=body.supervision, on=body.on,
                    allow_duplicates=body.allow_duplicates)
        response.headers["Location"] = f"{request.scope.get('root_path', '')}/v1/suggestions/{out['code']}"
        return out

    @r.get("/stats", response_model=m.Stats, summary="Statistics / 统计", responses={**ok(STATS), **errs},
           description="Raised and completed per year, type, category and tier (the \"16 raised, 14 completed\" "
                       "line), status, overdue items, handling time.\n\n各年度、类型、类别、层级的提出与办结件数，逾期件，平均办理时长。")
    def suggestion_stats(reg: Reg, since: Annotated[int | None, Query(ge=1949, le=2200)] = None):
        return _call(reg.stats, since=since)

    @r.get("/{ref}", response_model=m.Suggestion, summary="One suggestion / 详情", responses={**ok(SUGGESTION), **errs, **responses(404)},
           description="The suggestion with its problems, opinion ids and enterprises, and its `version` (send it "
                       "back with a change).\n\n建议或议案详情，含问题、原意见编号、企业及版本号（修改时需回传）。")
    def get_suggestion(ref: Ref, reg: Reg):
        return _call(reg.get, ref)

    @r.get("/{ref}/history", response_model=m.History, summary="History: who, when, what / 办理记录",
           responses={**ok(HISTORY), **errs, **responses(404)},
           description="Every change, oldest first: who, when (recorded and effective), the status move, the fields "
                       "changed (old, new) and the note. The history is append-only.\n\n全部变更记录（只增不改）。")
    def suggestion_history(ref: Ref, reg: Reg):
        return {"code": _call(reg.get, ref)["code"], "events": _call(reg.history, ref)}

    changes = {**ok(SUGGESTION), **errs, **responses(404, 409)}

    @r.post("/{ref}/assign", response_model=m.Suggestion, summary="Assign: lead agency, deadline, deputy / 交办（三明确）", responses=changes,
            description="The deadline is `deadline`, or `working_days` working days (Chinese public holidays and "
                        "make-up working days honoured; default: the tier's) after `on` (default today).\n\n"
                        "办理期限按工作日计算（含法定节假日与调休）。")
    def assign_suggestion(ref: Ref, request: Request, body: AssignIn, reg: Reg):
        return _call(reg.assign, ref, actor=_actor(request, body), lead_agency=body.lead_agency,
                     co_organisers=body.co_organisers, deputies=body.deputies, deputy_group=body.deputy_group,
                     deadline=body.deadline, working_days=body.working_days, supervision=body.supervision, on=body.on,
                     note=body.note, expected_version=body.version)

    @r.post("/{ref}/progress", response_model=m.Suggestion, summary="Record progress / 记录进展", responses=changes,
            description="A step of the handling (meeting, site visit, partial result); moves it to in progress.\n\n"
                        "记录办理进展（座谈、走访、阶段成果），状态变为办理中。")
    def record_progress(ref: Ref, request: Request, body: ProgressIn, reg: Reg):
        return _call(reg.progress, ref, body.note, actor=_actor(request, body), on=body.on,
                     expected_version=body.version)

    @r.post("/{ref}/answer", response_model=m.Suggestion, summary="Record the answer / 记录答复", responses=changes,
            description="The lead agency's answer; it then waits for the proposer's rating.\n\n记录承办单位答复，等待满意度测评。")
    def record_answer(ref: Ref, request: Request, body: AnswerIn, reg: Reg):
        return _call(reg.answer, ref, body.answer, actor=_actor(request, body), on=body.on,
                     expected_version=body.version)

    @r.post("/{ref}/rate", response_model=m.Suggestion, summary="Rate the answer / 满意度测评", responses=changes,
            description="满意 (satisfied) or 基本满意 (basically satisfied) closes it; 不满意 (dissatisfied) reopens it "
                        "into look-back with a new deadline (`look_back_days` working days, or `deadline`).\n\n"
                        "满意或基本满意即办结；不满意转入“回头看”，重新确定办理期限。")
    def rate_answer(ref: Ref, request: Request, body: RateIn, reg: Reg):
        return _call(reg.rate, ref, body.satisfaction, actor=_actor(request, body), note=body.note, on=body.on,
                     look_back_days=body.look_back_days, deadline=body.deadline, expected_version=body.version)

    return r
