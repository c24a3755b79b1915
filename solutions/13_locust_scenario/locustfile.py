"""A realistic load test of the TaskBoard API: two kinds of users, weighted tasks, one login each, think time."""

import random

from locust import HttpUser, between, task


class MemberUser(HttpUser):
    """80% of the users: team members browsing projects and reading tasks."""

    weight = 4
    wait_time = between(2, 5)

    def on_start(self):
        email = f"member{random.randint(1, 50)}@example.com"
        response = self.client.post("/auth/login", json={"email": email, "password": "testpass123"})
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    @task(5)
    def browse_project(self):
        project_id = random.randint(1, 17)
        self.client.get(f"/projects/{project_id}/tasks", headers=self.headers, name="/projects/{id}/tasks")

    @task(3)
    def view_task(self):
        task_id = random.randint(1, 98)
        self.client.get(f"/tasks/{task_id}", headers=self.headers, name="/tasks/{id}")


class AdminUser(HttpUser):
    """20% of the users: admins reading dashboards and member lists."""

    weight = 1
    wait_time = between(3, 8)

    def on_start(self):
        response = self.client.post("/auth/login", json={"email": "admin@example.com", "password": "adminpass123"})
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    @task(3)
    def dashboard(self):
        org_id = random.randint(1, 4)
        self.client.get(
            f"/organizations/{org_id}/dashboard", headers=self.headers, name="/organizations/{id}/dashboard"
        )

    @task(1)
    def members(self):
        org_id = random.randint(1, 4)
        self.client.get(
            f"/organizations/{org_id}/members", headers=self.headers, name="/organizations/{id}/members"
        )
