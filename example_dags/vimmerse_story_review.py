"""
Story review: a person approves, edits or rejects the storyboard before credits go to scenes and videos.

storyboard -> review (a person answers) -> apply the review -> elements -> scenes -> videos

The story is the advanced flow of :func:`~airflow_provider_vimmerse.operators.story.story_task_group`, one task
per step. After the storyboard (a few credits), the ``review`` task, Airflow's own ``ApprovalOperator`` from the
standard provider, waits for a person: the storyboard is shown as numbered scenes, each scene's description in a
form field the reviewer can change.

* **Approve**: the scenes and videos are made. Changed fields replace those scenes' descriptions first; the
  edited storyboard is sent with the next step (``POST /story/{id}/elements``), so the scenes follow it.
* **Reject**: every later task is skipped, so no scene or video is requested (nothing more is spent). The run
  ends successful, with those tasks skipped: a rejection is a decision, not a fault.
* **No answer within a day** (``response_timeout``): the review task fails, the run fails and nothing more is
  spent. Clear the review task to ask again.

Answer in the Airflow UI (Browse -> Required Actions, or the review task's Required Actions tab) or with
``PATCH /api/v2/dags/vimmerse_story_review/dagRuns/{run_id}/taskInstances/story.review/-1/hitlDetails``.
Trigger it with the idea as the ``idea`` param.

Needs Airflow 3.1+ (the human-in-the-loop operators of the standard provider). On older Airflow this file
defines no DAG, and logs why, rather than failing to import.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import (  # on Airflow 3 alone: from airflow.sdk import ...
    DAG,
    AirflowFailException,
    AirflowOptionalProviderFeatureException,
    Param,
)

from airflow_provider_vimmerse.operators.story import story_task_group

try:
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    HAS_HUMAN_IN_THE_LOOP = True
except (ImportError, AirflowOptionalProviderFeatureException):
    # Airflow < 3.1 has no human-in-the-loop operators: 2.x has no standard provider with them, and on
    # 3.0 importing them raises. The file then defines no DAG (and no import error).
    HAS_HUMAN_IN_THE_LOOP = False

log = logging.getLogger(__name__)

#: Scenes in the storyboard, so one form field per scene.
SCENES = 3
#: The review task (inside the ``story`` group), as the REST API and ``xcom_pull`` name it.
REVIEW_TASK_ID = "story.review"


# [START howto_vimmerse_story_review_body]
def storyboard_markdown(storyboard: dict[str, Any]) -> str:
    """
    Return a storyboard as Markdown for the reviewer: the title, who and where, then the numbered scenes.

    :param storyboard: the storyboard the ``storyboard`` step pushed to XCom
    """
    lines = []
    if title := (storyboard.get("title_scene") or {}).get("title"):
        lines += [f"### {title}", ""]
    for section in ("characters", "environments", "objects"):
        for element in storyboard.get(section) or []:
            lines.append(f"- **{element.get('name', '')}** ({section[:-1]}): {element.get('description', '')}")
    lines += ["", "#### Scenes", ""]
    for number, scene in enumerate(storyboard.get("scenes") or [], start=1):
        lines.append(f"{number}. {scene.get('description', '')}")
        if narration := scene.get("narrator"):
            lines.append(f"   - *Narration:* {narration}")
        if motion := scene.get("motion_description"):
            lines.append(f"   - *Camera and motion:* {motion}")
    return "\n".join(lines)


# [END howto_vimmerse_story_review_body]


# [START howto_vimmerse_story_review_edit]
def fill_scene_fields(context: Any) -> None:
    """Put each scene's description in its form field, so the reviewer edits the text in place."""
    storyboard = context["ti"].xcom_pull(task_ids="story.storyboard", key="storyboard") or {}
    for number, scene in enumerate(storyboard.get("scenes") or [], start=1):
        if number <= SCENES:
            context["task"].params[f"scene_{number}"] = scene.get("description", "")


def apply_review(storyboard: dict[str, Any], ti: Any) -> dict[str, Any]:
    """
    Return the storyboard with the scene descriptions the reviewer changed (runs only after Approve).

    :param storyboard: the storyboard as written by the ``storyboard`` step
    :param ti: the task instance, to read the review's answer
    """
    answer = ti.xcom_pull(task_ids=REVIEW_TASK_ID)
    fields, reviewer = answer["params_input"], (answer.get("responded_by_user") or {}).get("name", "a reviewer")
    scenes = storyboard["scenes"]
    changed = []
    for number in range(1, SCENES + 1):
        text = (fields.get(f"scene_{number}") or "").strip()  # an empty field keeps the scene
        if not text or (number <= len(scenes) and text == scenes[number - 1].get("description")):
            continue
        if number > len(scenes):
            raise AirflowFailException(f"Scene {number} was edited, but the storyboard has {len(scenes)} scenes")
        scenes[number - 1]["description"] = text
        changed.append(number)
    if changed:
        log.info("Storyboard approved by %s with scene(s) %s edited", reviewer, ", ".join(map(str, changed)))
    else:
        log.info("Storyboard approved by %s as written", reviewer)
    return storyboard


# [END howto_vimmerse_story_review_edit]


if not HAS_HUMAN_IN_THE_LOOP:
    log.info("vimmerse_story_review needs Airflow 3.1+ (human-in-the-loop operators): no DAG defined")
else:
    with DAG(
        dag_id="vimmerse_story_review",
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        schedule=None,  # triggered with an idea
        doc_md=__doc__,
        tags=["vimmerse", "example"],
        params={"idea": Param("A paper boat crosses a lake at dawn", type="string", minLength=1)},
        user_defined_filters={"storyboard_markdown": storyboard_markdown},
    ) as dag:
        # [START howto_vimmerse_story_review]
        story = story_task_group(
            "story", idea="{{ params.idea }}", scene_count=SCENES, edit_storyboard=apply_review, deferrable=True
        )
        with story:
            review = ApprovalOperator(
                task_id="review",
                subject="Storyboard for: {{ params.idea }}",
                body=(
                    "{{ ti.xcom_pull(task_ids='story.storyboard', key='storyboard') | storyboard_markdown }}\n\n"
                    "**Approve** makes the scenes and videos (edit a scene's field first to change it), "
                    "**Reject** stops here: nothing more is spent."
                ),
                params={
                    f"scene_{number}": Param("", type=["null", "string"], format="multiline", title=f"Scene {number}")
                    for number in range(1, SCENES + 1)
                },
                pre_execute=fill_scene_fields,
                ignore_downstream_trigger_rules=True,  # Reject skips every later task, whatever its trigger rule
                response_timeout=timedelta(days=1),  # then the task fails: a day unanswered is worth an alert
                retries=0,  # a retry would ask again silently
            )
        story.get_child_by_label("storyboard") >> review >> story.get_child_by_label("edit_storyboard")
        # [END howto_vimmerse_story_review]
