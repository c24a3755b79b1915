"""Exercise 01 corpus cases beyond tests/corpus.py: rows read, and eager loads written differently."""

from __future__ import annotations

from corpus import Case

_STARTER_LOOP = """    result = await db.execute(select(Project).where(Project.org_id == org_id).order_by(Project.id))
    projects = result.scalars().all()
"""

CASES: dict[str, Case] = {
    "01_whole_tables_in_python": Case(
        "01",
        "exercises",
        [
            (
                _STARTER_LOOP,
                "    all_projects = (await db.execute(select(Project).order_by(Project.id))).scalars().all()\n"
                "    all_tasks = (await db.execute(select(Task).order_by(Task.id))).scalars().all()\n"
                "    users = {u.id: u for u in (await db.execute(select(User))).scalars().all()}\n"
                "    projects = [p for p in all_projects if p.org_id == org_id]\n",
            ),
            (
                "        tasks_stmt = select(Task).where(Task.project_id == project.id).order_by(Task.id)\n"
                "        tasks = (await db.execute(tasks_stmt)).scalars().all()\n",
                "        tasks = [t for t in all_tasks if t.project_id == project.id]\n",
            ),
            (
                "                assignee = await db.scalar(select(User).where(User.id == task.assignee_id))\n",
                "                assignee = users[task.assignee_id]\n",
            ),
        ],
        {"rows_read"},
        "filter in SQL (WHERE, IN, a join), not in Python",
        "4 queries at any scale, but every customer's rows read for each dashboard",
    ),
    "01_all_users_in_python": Case(
        "01",
        "solutions",
        [
            (
                ".options(selectinload(Project.tasks).selectinload(Task.assignee))",
                ".options(selectinload(Project.tasks))",
            ),
            (
                "    project_data = [",
                "    names = {u.id: u.name for u in (await db.execute(select(User))).scalars().all()}\n"
                "    project_data = [",
            ),
            (
                '"assignee": task.assignee.name if task.assignee else None,',
                '"assignee": names.get(task.assignee_id),',
            ),
            (
                "from harness.models import Organization, Project, Task",
                "from harness.models import Organization, Project, Task, User",
            ),
        ],
        {"rows_read"},
        "rows from the database, but organization 3 has only",
        "the projects filtered in SQL, but every user of every organization read",
    ),
    "01_members_in_one_query": Case(
        "01",
        "solutions",
        [
            (
                ".options(selectinload(Project.tasks).selectinload(Task.assignee))",
                ".options(selectinload(Project.tasks))",
            ),
            (
                "    project_data = [",
                "    members = (await db.execute(select(User).where(User.org_id == org_id))).scalars().all()\n"
                "    names = {u.id: u.name for u in members}\n"
                "    project_data = [",
            ),
            (
                '"assignee": task.assignee.name if task.assignee else None,',
                '"assignee": names.get(task.assignee_id),',
            ),
            (
                "from harness.models import Organization, Project, Task",
                "from harness.models import Organization, Project, Task, User",
            ),
        ],
        set(),
        why="the organization's members in one query, mapped in Python: passes",
    ),
    "01_subqueryload": Case(
        "01",
        "solutions",
        [
            ("selectinload", "subqueryload"),
        ],
        set(),
        why="subqueryload instead of selectinload: passes",
    ),
}
