"""Response models of the API, with bilingual descriptions, examples and enums.

The models holding category or tier codes are built per application (``triage_models``) from
the taxonomy of the model in service, so that /openapi.json lists the very codes it answers with.
"""
from types import SimpleNamespace

from pydantic import BaseModel, Field

from service.codes import Codes


class Term(BaseModel):
    term: str = Field(examples=["进项"])
    weight: float = Field(examples=[0.21])


def triage_models(codes: Codes) -> SimpleNamespace:
    """TriageResponse and TaxonomyResponse with the codes of ``codes`` as enums."""
    Category, Tier, Reason = codes.Category, codes.Tier, codes.ReviewReason
    Subtopic, ScopeKind = codes.Subtopic, codes.ScopeKind

    class Alternative(BaseModel):
        category: Category = Field(examples=["financing"])
        probability: float = Field(examples=[0.05])

    class TriageResult(BaseModel):
        """What the library returns for one opinion, with your id. 单条意见的分类与交办建议。"""
        id: str | int | None = Field(None, description="your id, echoed / 原样返回的编号")
        enterprise: str | None = Field(None, description="echoed / 原样返回")
        category: Category | None = Field(description="category code, null when the text is unusable / 类别代码", examples=["tax"])
        category_probability: float = Field(description="calibrated probability / 校准概率", examples=[0.97])
        subtopic: Subtopic | None = Field(None, description="subtopic code, always under the category; null when "
                                                          "out of scope / 子议题代码", examples=["tax_export_refund"])
        subtopic_probability: float = Field(0.0, description="probability of category and subtopic / 子议题概率",
                                            examples=[0.81])
        tier: Tier | None = Field(description="routing tier: on_site 现场办, transfer 分级转, key 重点提", examples=["transfer"])
        tier_probability: float = Field(examples=[0.71])
        alternatives: list[Alternative] = Field(description="next most likely categories / 备选类别")
        needs_review: bool = Field(description="a person should check it / 需人工复核")
        review_reason: Reason | None = Field(description="out_of_scope, novel, off_topic, no_usable_words, "
                                                      "no_known_terms, low_confidence (see /v1/taxonomy) / 复核原因",
                                             examples=[None])
        out_of_scope_kind: ScopeKind | None = Field(None, description="what an out-of-scope text is (category null; "
                                                                    "lead_agency is where to refer it) / 范围外类型",
                                                    examples=[None])
        lead_agency: str | None = Field(description="lead agency / 主办单位", examples=["区税务局"])
        lead_agency_en: str | None = Field(examples=["District Tax Bureau"])
        deadline_days: int | None = Field(description="days allowed by the tier / 办理时限（天）", examples=[90])
        deadline: str | None = Field(description="intake date + deadline_days / 办理截止日期", examples=["2025-09-23"])
        deputy: str | None = Field(description="responsible deputy / 参与代表", examples=["周建华"])
        explanation: list[Term] = Field(description="terms that drove the category / 判别依据词")

    class TriageResponse(BaseModel):
        model_version: str = Field(description="version of the model that answered / 作答的模型版本")
        count: int = Field(description="number of results / 结果条数")
        results: list[TriageResult]

    class CategoryOut(BaseModel):
        code: Category = Field(examples=["tax"])
        name_zh: str = Field(examples=["税收与税改"])
        name_en: str = Field(examples=["Tax and tax reform"])
        lead_agency_zh: str = Field(examples=["区税务局"])
        lead_agency_en: str = Field(examples=["District Tax Bureau"])
        description: str = ""

    class TierOut(BaseModel):
        code: Tier = Field(examples=["on_site"])
        name_zh: str = Field(examples=["现场办"])
        name_en: str = Field(examples=["Handled on the spot"])
        deadline_days: int = Field(examples=[7])
        supervision_zh: str = ""
        supervision_en: str = ""
        description: str = ""

    class SubtopicOut(BaseModel):
        code: Subtopic = Field(examples=["tax_export_refund"])
        category: Category = Field(examples=["tax"])
        name_zh: str = Field(examples=["出口退税"])
        name_en: str = Field(examples=["Export tax refunds"])
        description: str = ""
        lead_agency_zh: str = Field("", description="overrides the category's when not empty / 牵头单位")
        lead_agency_en: str = ""

    class ScopeKindOut(BaseModel):
        code: ScopeKind = Field(examples=["labour_wages"])
        name_zh: str = Field(examples=["劳动与工资"])
        name_en: str = Field(examples=["Labour and wages"])
        tier: Tier = Field(examples=["on_site"])
        referral_zh: str = Field(examples=["区人社局劳动保障监察大队"])
        referral_en: str = ""
        description: str = ""

    class TaxonomyResponse(BaseModel):
        name: str
        version: str
        categories: list[CategoryOut]
        subtopics: list[SubtopicOut] = Field([], description="the second level / 子议题")
        out_of_scope: list[ScopeKindOut] = Field([], description="kinds of text of no category / 范围外类型")
        tiers: list[TierOut]
        review_reasons: dict[Reason, str] = Field(description="codes of review_reason, in English and Chinese / 复核原因说明")

    return SimpleNamespace(TriageResult=TriageResult, TriageResponse=TriageResponse, TaxonomyResponse=TaxonomyResponse)


class ModelInfo(BaseModel):
    version: str = Field(examples=["20261129-162142-fb458131"])
    created_at: str = Field(examples=["2026-11-29T16:21:42+00:00"])
    taxonomy: dict = Field(description="name and version of the taxonomy / 分类体系")
    labels: dict = Field(description="categories and tiers the model knows / 类别与层级")
    review_threshold: float = Field(description="category probability under which needs_review is set / 复核阈值")
    metrics: dict = Field(description="cross-validated metrics: category, tier, review, and where the model has "
                                      "them subtopic, out_of_scope, calibration, novelty / 交叉验证指标")
    selected: dict = Field(description="selected features and classifier / 选定的特征与分类器")
    data: dict = Field(description="SHA-256 and size of the training data / 训练数据摘要")
    artifact: dict = Field(description="SHA-256 of the model files / 模型文件摘要")
    libraries: dict = Field(description="library versions it was trained with / 训练时的库版本")


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Ready(BaseModel):
    status: str = Field(examples=["ready"])
    model_version: str = Field(examples=["20261129-162142-fb458131"])
    loaded_at: str | None = Field(None, examples=["2026-11-29T16:30:00+00:00"])


class ReloadResponse(BaseModel):
    previous_version: str | None = Field(examples=["20261129-162142-fb458131"])
    version: str = Field(examples=["20261201-090000-ab12cd34"])
    seconds: float = Field(description="time to load and check it / 加载用时（秒）")
    workers_notified: bool = Field(description="other worker processes were told to follow / 已通知其他工作进程")


# Examples of successful answers, shown in /docs beside the request examples.
RESULT_EXAMPLE = {
    "id": "2025-06-001", "enterprise": "某某木业有限公司", "category": "tax", "category_probability": 0.9816,
    "tier": "transfer", "tier_probability": 0.58,
    "alternatives": [{"category": "financing", "probability": 0.013}, {"category": "infrastructure", "probability": 0.004}],
    "needs_review": False, "review_reason": None, "lead_agency": "区税务局", "lead_agency_en": "District Tax Bureau",
    "deadline_days": 90, "deadline": "2025-09-23", "deputy": "周建华",
    "explanation": [{"term": "林农", "weight": 0.23}, {"term": "进项", "weight": 0.10}],
}
RESPONSE_EXAMPLES = {
    "triage": {"model_version": "20261129-162142-fb458131", "count": 1, "results": [RESULT_EXAMPLE]},
    "taxonomy": {"name": "wood-industry liaison station", "version": "2025.1",
                 "categories": [{"code": "tax", "name_zh": "税收与税改", "name_en": "Tax and tax reform",
                                 "lead_agency_zh": "区税务局", "lead_agency_en": "District Tax Bureau",
                                 "description": "增值税、发票、进项抵扣、留抵退税与出口退税"}],
                 "tiers": [{"code": "on_site", "name_zh": "现场办", "name_en": "Handled on the spot", "deadline_days": 7,
                            "supervision_zh": "", "supervision_en": "", "description": ""}],
                 "review_reasons": {"low_confidence": "category probability under the review threshold / 类别概率低于复核阈值"}},
    "model": {"version": "20261129-162142-fb458131", "created_at": "2026-11-29T16:21:42+00:00",
              "taxonomy": {"name": "wood-industry liaison station", "version": "2025.1"},
              "labels": {"categories": ["branding", "financing", "infrastructure", "tax", "technology"],
                         "tiers": ["key", "on_site", "transfer"]},
              "review_threshold": 0.51,
              "metrics": {"category": {"macro_f1": 0.8647, "accuracy": 0.8652}, "tier": {"macro_f1": 0.844, "accuracy": 0.8415},
                          "review": {"threshold": 0.51, "coverage": 0.8637, "accuracy_accepted": 0.9065}},
              "selected": {"category": {"features": "word+char", "classifier": "linearsvc"},
                           "tier": {"features": "word+char", "classifier": "logreg"}},
              "data": {"sha256": "fb458131...", "n_rows": 1350}, "artifact": {"scorer.npz": "9f2c...", "card.json": "..."},
              "libraries": {"scikit-learn": "1.9.1", "jieba": "0.42.1"}},
    "healthz": {"status": "ok"},
    "readyz": {"status": "ready", "model_version": "20261129-162142-fb458131", "loaded_at": "2026-11-29T16:30:00+00:00"},
    "reload": {"previous_version": "20261129-162142-fb458131", "version": "20261201-090000-ab12cd34", "seconds": 6.2,
               "workers_notified": False},
}


def ok(name: str) -> dict:
    """OpenAPI entry of a 200 answer with its example."""
    return {200: {"content": {"application/json": {"example": RESPONSE_EXAMPLES[name]}}}}
