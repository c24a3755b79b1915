"""Monday morning: 50 people open project overviews, one after another.

Run by `kata load 12` and `kata check 12` on the virtual clock; the same file runs in real Locust against
`kata serve 12`:  locust -f exercises/12_pool_exhaustion/locustfile.py --host http://127.0.0.1:8000
"""

import random

from locust import HttpUser, between, task

# The projects of the seeded data (every seed, scale 10x8): ids 1-17.
PROJECT_IDS = range(1, 18)


class ProjectViewer(HttpUser):
    # Half a second to a second and a half between one answer and the next click.
    wait_time = between(0.5, 1.5)

    @task
    def view_overview(self):
        project_id = random.choice(PROJECT_IDS)
        self.client.get(f"/projects/{project_id}/overview", name="/projects/{id}/overview")
