"""A working day: 50 people browse projects, and now and then open their organization's billing panel.

Run by `kata load 11` and `kata check 11` on the virtual clock; the same file runs in real Locust against
`kata serve 11`:  locust -f exercises/11_event_loop_blocking/locustfile.py --host http://127.0.0.1:8000
"""

import random

from locust import HttpUser, between, task

# The seeded data at scale 10x8 (every seed): projects 1-17, organizations 1-4.
PROJECT_IDS = range(1, 18)
ORG_IDS = range(1, 5)


class TeamMember(HttpUser):
    wait_time = between(1, 3)

    @task(3)
    def view_project(self):
        project_id = random.choice(PROJECT_IDS)
        self.client.get(f"/projects/{project_id}", name="/projects/{id}")

    @task(1)
    def view_billing(self):
        org_id = random.choice(ORG_IDS)
        self.client.get(f"/organizations/{org_id}/billing", name="/organizations/{id}/billing")
