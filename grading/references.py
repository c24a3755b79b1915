"""Reference answers shared by several exercises, computed from the seeded rows (never from an app)."""

from __future__ import annotations

from harness.world.seed import Dataset


def organization_in(data: Dataset, path: str) -> tuple[int, dict | None]:
    """The organization a path like /organizations/{id}/... names: (id, its row or None)."""
    org_id = int(path.split("/")[2])
    return org_id, data.organizations.get(org_id)


def dashboard_projects(data: Dataset, org_id: int) -> list[dict]:
    """The dashboard's project list: each project with its tasks and their assignees, ordered by id."""
    projects = []
    for project in data.projects_of(org_id):
        tasks = data.tasks_of(project["id"])
        projects.append(
            {
                "project_name": project["name"],
                "task_count": len(tasks),
                "tasks": [
                    {"id": t["id"], "title": t["title"], "status": t["status"], "assignee": data.assignee_name(t)}
                    for t in tasks
                ],
            }
        )
    return projects
