"""Rostering through the real path: HTTP → Redis → a cpu worker running CP-SAT."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "shift_scheduling"


def _text(n: int) -> str:
    return (DATA / f"Instance{n}.txt").read_text()


def _post_text(stack, text: str, **params):
    return stack.http.post("/v1/solve", content=text.encode(), params=params,
                           headers={"content-type": "text/plain"})


def test_instance_1_is_solved_to_the_optimum_607_by_a_worker(stack):
    response = _post_text(stack, _text(1), time_limit_s=60)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    done = stack.wait_status(job_id, "succeeded", timeout=120)
    assert done["progress"]["objective"] >= 607
    result = stack.http.get(f"/v1/jobs/{job_id}/result").json()["result"]
    assert result["status"] == "OPTIMAL" and result["objective"] == 607
    assert result["checked"]["feasible"] and result["checked"]["objective"] == 607
    assert len(result["assignments"]) == 8  # staff members in Instance 1


def test_a_hint_from_an_earlier_solve_is_accepted(stack):
    first = _post_text(stack, _text(1), time_limit_s=30).json()["job_id"]
    stack.wait_status(first, "succeeded", timeout=120)
    from actors.solve.reader import parse_problem_text

    body = {"problem": parse_problem_text(_text(1)).model_dump(mode="json"),
            "options": {"time_limit_s": 30, "hint_from": first}}
    second = stack.submit("/v1/solve", body)["job_id"]
    result = stack.wait_status(second, "succeeded", timeout=120)
    assert result["status"] == "succeeded"
    assert stack.http.get(f"/v1/jobs/{second}/result").json()["result"]["objective"] == 607


def test_cancel_stops_the_search_and_keeps_the_best_roster_so_far(stack):
    job_id = _post_text(stack, _text(7), time_limit_s=120).json()["job_id"]
    stack.wait_status(job_id, "running", timeout=60)
    from stack_support import wait_until

    wait_until(lambda: (stack.job(job_id).get("progress") or {}).get("objective"), 60,
               what="a first solution")
    stack.http.post(f"/v1/jobs/{job_id}/cancel")
    job = stack.wait_status(job_id, "cancelled", timeout=30)
    assert job["finished_at"] - job["started_at"] < 60
    result = stack.http.get(f"/v1/jobs/{job_id}/result").json()["result"]
    assert result["cancelled"] is True and result["status"] == "FEASIBLE"
    assert result["checked"]["feasible"] and result["objective"] == result["checked"]["objective"]


def test_an_infeasible_problem_is_explained_by_its_conflicting_groups(stack):
    problem = {
        "horizon": {"days": 3},
        "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [{"id": "A", "max_shifts": {"D": 3}, "min_total_minutes": 1440,
                   "days_off": [1]}],
        "cover": [{"day": 0, "shift_id": "D", "requirement": 1}],
    }
    job_id = stack.submit("/v1/solve", {"problem": problem,
                                        "options": {"time_limit_s": 10}})["job_id"]
    stack.wait_status(job_id, "succeeded", timeout=60)
    result = stack.http.get(f"/v1/jobs/{job_id}/result").json()["result"]
    assert result["status"] == "INFEASIBLE"
    joined = " | ".join(result["conflicts"])
    assert "min total minutes" in joined and "days off" in joined


def test_malformed_benchmark_text_is_a_422_naming_the_line(stack):
    broken = _text(1).replace("\nD,480,\n", "\nD,lots,\n", 1)
    assert broken != _text(1)
    response = _post_text(stack, broken)
    assert response.status_code == 422
    assert response.json()["error"].startswith("line 9:"), response.json()


def test_malformed_json_is_a_422_naming_the_field(stack):
    response = stack.http.post("/v1/solve", json={"problem": {"horizon": {"days": 0},
                                                              "shifts": [], "staff": []}})
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["details"]}
    assert "problem.horizon.days" in fields
    not_json = stack.http.post("/v1/solve", content=b"{",
                               headers={"content-type": "application/json"})
    assert not_json.status_code == 422 and "line 1" in not_json.json()["error"]


def test_a_problem_over_the_size_limit_is_a_413_naming_the_limit(stack):
    from actors.solve.reader import parse_problem_text

    problem = parse_problem_text(_text(8)).model_dump(mode="json")
    problem["horizon"]["days"] = 400
    response = stack.http.post("/v1/solve", json={"problem": problem})
    assert response.status_code == 413, response.text
    assert response.json()["limit"] == "max_days"
    assert "max_days" in response.json()["error"]


def test_repertory_solve_submits_a_file_waits_and_prints_the_optimum(stack):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "repertory_cli.main", "solve", str(DATA / "Instance1.txt"),
         "--time-limit", "30", "--api", str(stack.http.base_url)],
        capture_output=True, text=True, timeout=120, env=stack.env)
    assert done.returncode == 0, done.stderr
    assert "OPTIMAL" in done.stdout and "607" in done.stdout
