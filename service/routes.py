"""The endpoints: parse, check the key, call one library function, format.

The triage endpoint runs a small request (``INLINE_CHARS``) on the event loop, where handing
it to a thread and back would cost more than the work, and a larger one in the thread pool,
so the CPU work of a batch never blocks the event loop. A batch is one ``predict_batch`` call.
Each request takes the model once (``holder.get()``) and uses that object to the end, so a
reload in the middle of it changes nothing for it.
"""

import logging
from dataclasses import fields
from typing import Annotated

import pydantic_core
from fastapi import APIRouter, Body, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from triage.errors import TriageError
from service.holder import ModelHolder, ReloadInProgress
from triage.model.estimator import REVIEW_REASONS
from triage.text import clean

from service.auth import SettingsDep, require_admin, require_key
from service.codes import Codes
from service.errors import ApiError, error_json, responses
from service.responses import Health, ModelInfo, Ready, ReloadResponse, ok, triage_models
from service.schemas import EXAMPLES, request_model

log = logging.getLogger("service")


def get_holder(request: Request) -> ModelHolder:
    return request.app.state.holder


HolderDep = Annotated[ModelHolder, Depends(get_holder)]


def current_model(request: Request):
    holder = get_holder(request)
    try:
        return holder.get()
    except TriageError:
        if holder.loading or holder.error is None:
            raise ApiError(503, "model_loading", "the model is still loading; retry in a few seconds",
                           headers={"Retry-After": "5"}) from None
        raise ApiError(503, "model_unavailable", "no model is loaded: the last load was refused (see the server "
                                                 "log); an administrator must fix the model folder and reload",
                       headers={"Retry-After": "30"}) from None


# Requests with at most this many characters of text in all are triaged on the event loop
# (a single opinion takes well under a millisecond); larger ones in the thread pool, so that a
# 1,000-opinion batch never holds up the requests around it.
INLINE_CHARS = 2000


def _triage_response(model, items) -> Response:
    """One ``predict_batch`` call, the results in the order sent with the caller's ids."""
    preds = model.predict_batch([o.text for o in items], [o.intake_date for o in items], [o.deputy for o in items])
    names = [f.name for f in fields(preds[0])] if preds else []
    results = [{"id": o.id, "enterprise": o.enterprise, **{n: getattr(p, n) for n in names}}
               for o, p in zip(items, preds)]
    # Serialised here by pydantic-core: for 1,000 results this takes ~10 ms, where
    # re-validating them against the response model and json.dumps took ~0.5 s.
    payload = {"model_version": model.card_["version"], "count": len(results), "results": results}
    return Response(pydantic_core.to_json(payload), media_type="application/json")


def build_router(settings, codes: Codes) -> APIRouter:
    """The routes; ``settings`` gives the documented limits, ``codes`` the enums (the settings
    in force at request time come from the ``get_settings`` dependency)."""
    TriageRequest = request_model(settings.max_items, settings.max_text_chars)
    out = triage_models(codes)
    r = APIRouter()

    @r.post("/v1/triage", response_model=out.TriageResponse, dependencies=[Depends(require_key)], tags=["triage 分类"],
            summary="Triage opinions / 意见分类与交办建议", responses={**ok("triage"), **responses(401, 413, 415, 422, 503)},
            description=(
                f"Send one opinion (`{{\"text\": ...}}`) or up to {settings.max_items} (`{{\"items\": [...]}}`). "
                "Each result holds the category and routing tier with calibrated probabilities, two alternatives, "
                "`needs_review` and its reason, the lead agency, the deadline counted from `intake_date`, the deputy "
                "and the terms that drove the decision, in the order sent, with your `id`.\n\n"
                f"提交一条意见或最多 {settings.max_items} 条意见（`items`），按原顺序返回类别、层级及概率、备选类别、是否需复核、"
                "主办单位、办理期限、参与代表和判别依据词，并原样返回 `id`。"))
    async def triage_opinions(request: Request, body: Annotated[TriageRequest, Body(openapi_examples=EXAMPLES)]):
        model = current_model(request)
        items = body.opinions()
        request.state.items = len(items)
        if sum(len(o.text) for o in items) <= INLINE_CHARS:  # a millisecond or two: no thread hand-off
            return _triage_response(model, items)
        return await run_in_threadpool(_triage_response, model, items)

    @r.get("/v1/taxonomy", response_model=out.TaxonomyResponse, dependencies=[Depends(require_key)],
           tags=["model 模型"], summary="Categories and tiers / 分类体系", responses={**ok("taxonomy"), **responses(401, 503)},
           description="Categories and routing tiers of the model in service, with codes, Chinese and English names, "
                       "lead agencies and deadlines, the subtopics and out-of-scope kinds, and the meaning of each "
                       "review reason.\n\n"
                       "当前模型的类别、子议题、范围外类型与交办层级：代码、中英文名称、主办单位、办理时限，以及复核原因说明。")
    def get_taxonomy(request: Request):
        tax = current_model(request).taxonomy.to_dict()
        return {"name": tax["name"], "version": tax["version"], "categories": tax["categories"],
                "subtopics": tax["subtopics"], "out_of_scope": tax["out_of_scope"],
                "tiers": tax["tiers"], "review_reasons": dict(REVIEW_REASONS)}

    @r.get("/v1/model", response_model=ModelInfo, dependencies=[Depends(require_key)], tags=["model 模型"],
           summary="Model card / 模型信息", responses={**ok("model"), **responses(401, 503)},
           description="The card of the model in service: version, creation time, cross-validated metrics, label "
                       "sets, review threshold, training-data and file hashes.\n\n"
                       "当前模型卡片：版本、创建时间、交叉验证指标、类别与层级、复核阈值、训练数据与模型文件摘要。")
    def get_model_card(request: Request):
        card = current_model(request).card_
        training = card.get("training", {})
        parts = ("category", "tier")
        return {"version": card["version"], "created_at": card.get("created_at", ""),
                "taxonomy": card.get("taxonomy", {}), "labels": card.get("labels", {}),
                "review_threshold": card.get("review_threshold"),
                "metrics": {**{p: training.get(p, {}).get("cv", {}) for p in parts}, "review": training.get("review", {}),
                            **{k: training[k] for k in ("subtopic", "out_of_scope", "calibration", "novelty")
                               if training.get(k)}},
                "selected": {p: training.get(p, {}).get("selected", {}) for p in parts},
                "data": card.get("data", {}), "artifact": card.get("files", {}),
                "libraries": card.get("libraries", {})}

    @r.get("/healthz", response_model=Health, tags=["health 状态"], summary="Liveness / 存活检查", responses=ok("healthz"),
           description="The process answers. No key needed. 进程存活即返回 ok，无需密钥。")
    def healthz():
        return {"status": "ok"}

    @r.get("/readyz", response_model=Ready, tags=["health 状态"], summary="Readiness / 就绪检查",
           responses={**ok("readyz"), **responses(503)},
           description="200 once the model is loaded and warmed up, 503 before (or if loading failed). No key "
                       "needed.\n\n模型加载并预热完成后返回 200，此前（或加载失败时）返回 503。无需密钥。")
    def readyz(holder: HolderDep):
        if not holder.ready:
            failed = holder.error is not None and not holder.loading
            return error_json(503, "model_unavailable" if failed else "model_loading",
                              "the model could not be loaded; see the server log" if failed
                              else "the model is still loading", headers={"Retry-After": "5"})
        return {"status": "ready", "model_version": holder.version, "loaded_at": holder.loaded_at}

    @r.post("/v1/admin/reload", response_model=ReloadResponse, dependencies=[Depends(require_admin)],
            tags=["admin 管理"], summary="Reload the model / 重新加载模型",
            responses={**ok("reload"), **responses(401, 403, 409)},
            description="Load the CURRENT version of the model folder, check its hashes and a test prediction, "
                        "then swap it in atomically: requests in flight finish on the old model, none fail. A "
                        "model that fails to load or fails its hash check is refused (409) and the old one stays. "
                        "With several workers, the others follow within seconds. Needs an admin key.\n\n"
                        "加载模型目录中 CURRENT 指向的版本，校验摘要并试运行后原子替换：进行中的请求仍用旧模型完成，不会失败。"
                        "加载失败或摘要不符的模型被拒绝（409），旧模型继续服务。需要管理员密钥。")
    def reload_model(request: Request, holder: HolderDep, settings: SettingsDep):
        try:
            result = holder.load()
        except ReloadInProgress as exc:
            raise ApiError(409, "reload_in_progress", str(exc)) from None
        except TriageError as exc:
            log.error("reload by %s refused: %s", getattr(request.state, "client", "-"), clean(str(exc)))
            raise ApiError(409, "model_refused", f"{clean(str(exc))}; still serving version {holder.version}") from None
        if settings.reload_signal:
            ModelHolder.announce(settings.reload_signal, result)
        log.warning("model reloaded by %s: %s -> %s", getattr(request.state, "client", "-"),
                    result.previous_version, result.version)
        return {"previous_version": result.previous_version, "version": result.version,
                "seconds": result.seconds, "workers_notified": bool(settings.reload_signal)}

    return r

