"""Request and response models of the API, with limits, bilingual descriptions and examples.

The request models are built per application (``request_model``) so that the limits in the
settings (items per request, characters per text) are the ones validated *and* the ones the
OpenAPI documentation shows."""

import datetime as dt
from typing import Annotated, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, RootModel, StrictInt, StrictStr, Tag, field_validator
from pydantic_core import PydanticCustomError

from triage.errors import InputError
from triage.routing import FIRST_DATE, LAST_DATE, parse_date
from triage.text import normalise

# Intake dates the API accepts: a deadline is counted from them, and a typo such as 9999-12-31
# or 0001-01-01 would overflow the calendar (or stand for a date no opinion was collected on).
EXAMPLE_TEXT = "从林农手里收的原木开不出收购发票，进项抵扣不了，税负太重"
EXAMPLES = {
    "one": {"summary": "one opinion / 单条意见",
            "value": {"id": "2025-06-001", "text": EXAMPLE_TEXT, "enterprise": "某某木业有限公司",
                      "deputy": "周建华", "intake_date": "2025-06-25"}},
    "many": {"summary": "several opinions / 多条意见",
             "value": {"items": [
                 {"id": "a1", "text": "园区门口的路灯坏了三天了，晚上工人下班看不见路", "intake_date": "2025-06-25"},
                 {"id": "a2", "text": "续贷下周到期，银行让先还再贷，过桥资金利息太高", "deputy": "李红"}]}},
}


def request_model(max_items: int, max_text_chars: int):
    """The body of POST /v1/triage: one opinion, or ``{"items": [...]}`` with up to ``max_items``."""

    class Opinion(BaseModel):
        """One opinion as recorded. 一条意见。"""
        model_config = ConfigDict(extra="forbid")

        text: str = Field(max_length=max_text_chars, examples=[EXAMPLE_TEXT],
                          description=f"the opinion text, 1 to {max_text_chars} characters, not only white space / "
                                      f"意见原文，1 至 {max_text_chars} 个字符，不能为空白")
        id: Annotated[StrictStr, Field(max_length=200)] | StrictInt | None = Field(
            None, examples=["2025-06-001"], description="your identifier, echoed back / 您的编号，原样返回")
        enterprise: str | None = Field(None, max_length=200, examples=["某某木业有限公司"],
                                       description="enterprise visited, echoed back / 走访企业，原样返回")
        deputy: str | None = Field(None, max_length=100, examples=["周建华"],
                                   description="responsible deputy / 参与代表")
        intake_date: str | None = Field(None, max_length=40, examples=["2025-06-25"],
                                        description=f"date the opinion was collected, {FIRST_DATE} to {LAST_DATE}; "
                                                    "the deadline counts from it (2025-06-25, 2025/6/25, 2025年6月25日) "
                                                    "/ 收集日期，办理期限从此日起算")

        @field_validator("text")
        @classmethod
        def _not_blank(cls, value: str) -> str:
            if not normalise(value):
                raise PydanticCustomError("empty_text", "the text is empty or only white space")
            return value

        @field_validator("intake_date")
        @classmethod
        def _date(cls, value):
            try:
                day = parse_date(value, within=False)  # the range is checked below, with its own message
            except InputError:
                raise PydanticCustomError("bad_date", "expected a date like 2025-06-25") from None
            except (ValueError, OverflowError):  # a date the calendar cannot hold
                day = dt.date.max
            if day is not None and not FIRST_DATE <= day <= LAST_DATE:
                raise PydanticCustomError("date_out_of_range", "the date {day} is out of range",
                                          {"day": day.isoformat(), "first": FIRST_DATE.isoformat(),
                                           "last": LAST_DATE.isoformat()})
            return day.isoformat() if day else None

    class OpinionBatch(BaseModel):
        """Several opinions, triaged in one vectorised call. 多条意见，一次批量处理。"""
        model_config = ConfigDict(extra="forbid")

        items: list[Opinion] = Field(min_length=1, max_length=max_items,
                                     description=f"1 to {max_items} opinions; results come back in this order / "
                                                 f"1 至 {max_items} 条意见，结果按相同顺序返回")

    def shape(value):
        if isinstance(value, dict):
            return "many" if "items" in value else "one"
        return None

    class TriageRequest(RootModel):
        root: Annotated[Union[Annotated[Opinion, Tag("one")], Annotated[OpinionBatch, Tag("many")]],
                        Discriminator(shape, custom_error_type="invalid_shape",
                                      custom_error_message="expected a JSON object")]

        def opinions(self) -> list:
            return self.root.items if isinstance(self.root, OpinionBatch) else [self.root]

    return TriageRequest


