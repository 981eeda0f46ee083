"""Request and response models of ``/v1/suggestions``, built per application so that their
code fields list the codes of the taxonomy in service (``service.codes``).

Response models keep any field the register adds (``extra="allow"``): they document the
answer, they never cut it."""

import datetime as dt
from types import SimpleNamespace
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.codes import Codes

Text = Annotated[str, Field(min_length=1, max_length=5000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    """Unknown fields are refused with the list of the expected ones."""
    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _no_unknown_fields(self):
        extra = sorted(self.model_extra or {})
        if extra:
            raise ValueError(f"unknown field(s) {extra}; expected {sorted(type(self).model_fields)}")
        return self


class _Change(_Strict):
    actor: str | None = Field(None, max_length=80, description="who does it (recorded with the API key's label)")
    on: dt.date | None = Field(None, description="the date it happened, if earlier than today / 发生日期")


class _Versioned(_Change):
    version: int = Field(ge=1, description="the version you last read; a stale one gives 409 / 读取时的版本号")


class ProgressIn(_Versioned):
    note: Text


class AnswerIn(_Versioned):
    answer: Text


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


def suggestion_models(codes: Codes) -> SimpleNamespace:
    """The models whose fields hold codes, with this app's enums."""
    CategoryIn, TierIn = codes.category_in, codes.tier_in
    Category, Tier, Status = codes.Category, codes.Tier, codes.Status

    class ProblemIn(_Strict):
        text: Text
        problem_id: str | None = Field(None, max_length=120)
        category: CategoryIn | None = Field(None, max_length=64, description="code or Chinese name / 类别代码或名称")
        tier: TierIn | None = Field(None, max_length=64, description="code or Chinese name / 层级代码或名称")
        enterprises: list[Name] = Field(default_factory=list, max_length=500)
        opinion_ids: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(default_factory=list,
                                                                                       max_length=5000)

    class CreateIn(_Change):
        problems: list[ProblemIn] = Field(min_length=1, max_length=200)
        kind: codes.kind_in = Field("suggestion", description="suggestion 建议 or motion 议案")
        title: str | None = Field(None, max_length=500)
        category: CategoryIn | None = Field(None, max_length=64)
        tier: TierIn | None = Field(None, max_length=64)
        lead_agency: Name | None = None
        co_organisers: list[Name] = Field(default_factory=list, max_length=50)
        supervision: codes.supervision_in | None = Field(None, description="all 全体代表督办 or group 代表小组督办")
        source: str | None = Field(None, max_length=300, description="the screening the problems come from")
        allow_duplicates: bool = False

    class AssignIn(_Versioned):
        lead_agency: Name | None = None
        co_organisers: list[Name] | None = Field(None, max_length=50)
        deputies: list[Name] | None = Field(None, max_length=50)
        deputy_group: str | None = Field(None, max_length=200)
        deadline: dt.date | None = None
        working_days: int | None = Field(None, ge=1, le=1000)
        supervision: codes.supervision_in | None = None
        note: str | None = Field(None, max_length=5000)

    class RateIn(_Versioned):
        satisfaction: codes.satisfaction_in = Field(
            description="满意 / 基本满意 / 不满意 (satisfied / basically_satisfied / dissatisfied)")
        note: str | None = Field(None, max_length=5000)
        look_back_days: int = Field(20, ge=1, le=1000)
        deadline: dt.date | None = None

    class Problem(_Out):
        problem_id: str | None = None
        text: str
        category: Category | None = None
        tier: Tier | None = None
        enterprises: list[str] = []
        opinion_ids: list[str] = []
        source: str | None = None

    class SuggestionSummary(_Out):
        """One suggestion or motion as listed. 台账条目。"""
        id: int
        code: str = Field(examples=["S-2025-001"])
        kind: codes.Kind
        kind_zh: str | None = None
        title: str | None = None
        category: Category | None = None
        category_zh: str | None = None
        tier: Tier | None = None
        tier_zh: str | None = None
        status: Status
        status_zh: str | None = None
        lead_agency: str | None = None
        co_organisers: list[str] = []
        deputies: list[str] = []
        deputy_group: str | None = None
        supervision: codes.Supervision | None = None
        supervision_zh: str | None = None
        working_days: int | None = None
        deadline: str | None = None
        overdue: bool = False
        days_overdue: int = 0
        raised_on: str | None = None
        answered_on: str | None = None
        answer: str | None = None
        satisfaction: codes.Satisfaction | None = None
        satisfaction_zh: str | None = None
        closed_on: str | None = None
        look_backs: int = 0
        created_on: str | None = None
        created_at: str | None = None
        created_by: str | None = None
        updated_at: str | None = None
        version: int = Field(description="send it back with a change / 修改时回传的版本号")

    class Suggestion(SuggestionSummary):
        """One suggestion or motion with its problems. 建议或议案详情。"""
        problems: list[Problem] = []
        enterprises: list[str] = []
        opinion_ids: list[str] = []

    class SuggestionList(_Out):
        count: int
        items: list[SuggestionSummary]

    class Event(_Out):
        suggestion: str
        version: int
        at: str | None = None
        effective_on: str | None = None
        actor: str | None = None
        action: str
        status_from: Status | None = None
        status_to: Status | None = None
        changes: dict[str, Any] = {}
        note: str | None = None

    class History(_Out):
        code: str
        events: list[Event]

    class Stats(_Out):
        today: str
        since: int | str | None = None
        first_year: int | str | None = None
        headline_zh: str
        headline_en: str
        totals: dict[str, Any]
        by_year: list[dict[str, Any]]
        by_category: list[dict[str, Any]]
        by_tier: list[dict[str, Any]]
        by_status: dict[str, int] = Field(description="count per status code / 各状态件数")
        satisfaction: dict[str, int] = Field(description="closed items per satisfaction code / 各满意度件数")
        look_backs: int
        overdue: list[dict[str, Any]]
        handling: dict[str, Any]

    return SimpleNamespace(**{k: v for k, v in locals().items() if isinstance(v, type)})
