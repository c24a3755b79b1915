"""A first load test of the TaskBoard API (see app.py): it runs, but it is not a realistic scenario yet."""

from locust import HttpUser, task


class ApiUser(HttpUser):
    @task
    def view_task(self):
        response = self.client.post(
            "/auth/login", json={"email": "member1@example.com", "password": "testpass123"}
        )
        token = response.json()["access_token"]
        self.client.get("/tasks/1", headers={"Authorization": f"Bearer {token}"})
