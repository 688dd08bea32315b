"""Which model each image collection holds, and which collection is live: kept in Redis.

* The model registry (``repertory:index:models``): model id → ``{model_name, pretrained, dim}``,
  written by every process that loads or targets a model. A gpu process uses it to load a
  model other than its configured one: the live collection's, while a reindex toward new
  settings runs (queries and uploads must be embedded by the model of the collection they
  meet), or the target's.
* The index state (``repertory:index:state``): ``live`` (the model whose collection the alias
  names), ``previous`` (the one before the last switch, kept for rollback), ``target`` (a
  reindex in progress: uploads are written to both), ``rolled_back`` (the model a rollback
  left: the periodic schedule does not start toward it again by itself).

The alias in the vector store is the truth for searches (``live`` mirrors it, written by the
index owner in the same step); a reader that sees ``live`` late only searches the previous
collection a moment longer, with a query vector of that collection's own model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from config.clip import ClipSettings
from config.queues import PREFIX

MODELS_KEY = f"{PREFIX}:index:models"
STATE_KEY = f"{PREFIX}:index:state"
FIELDS = ("live", "previous", "target", "rolled_back")


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    model_name: str
    pretrained: str | None
    dim: int

    def clip(self, base: ClipSettings) -> ClipSettings:
        """``base`` (device, precision, batcher) with this architecture and weights."""
        return base.model_copy(update={"model_name": self.model_name,
                                       "pretrained": self.pretrained})


def spec_for(clip: ClipSettings, dim: int) -> ModelSpec:
    from actors.embed.model import model_id_for

    return ModelSpec(model_id_for(clip), clip.model_name, clip.pretrained, dim)


def register(client: Any, spec: ModelSpec) -> None:
    client.hset(MODELS_KEY, spec.model_id, json.dumps(
        {"model_name": spec.model_name, "pretrained": spec.pretrained, "dim": spec.dim}))


def lookup(client: Any, model_id: str) -> ModelSpec | None:
    raw = client.hget(MODELS_KEY, model_id)
    if not raw:
        return None
    data = json.loads(raw)
    return ModelSpec(model_id, data["model_name"], data.get("pretrained"), int(data["dim"]))


def read_state(client: Any) -> dict[str, str | None]:
    values = client.hmget(STATE_KEY, *FIELDS)
    return {f: (v.decode() if isinstance(v, bytes) else v) or None
            for f, v in zip(FIELDS, values, strict=True)}


def set_state(client: Any, **fields: str | None) -> None:
    """Set (or, for None, clear) state fields in one step."""
    pipe = client.pipeline(transaction=True)
    present = {k: v for k, v in fields.items() if v is not None}
    if present:
        pipe.hset(STATE_KEY, mapping=present)
    absent = [k for k, v in fields.items() if v is None]
    if absent:
        pipe.hdel(STATE_KEY, *absent)
    pipe.execute()


def live_model(client: Any) -> str | None:
    value = client.hget(STATE_KEY, "live")
    return value.decode() if isinstance(value, bytes) else value


def write_models(state: dict[str, str | None], own: str) -> list[str]:
    """The models an upload is embedded with: the live one (own when none is recorded yet)
    and, during a reindex, the target too."""
    models = [state.get("live") or own]
    if state.get("target") and state["target"] not in models:
        models.append(state["target"])
    return models
