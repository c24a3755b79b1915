"""TaskBoard's traffic: what 50 people using the app at once look like (lecture 5.2 and 5.3).

The grader runs this file on the virtual clock (`kata check 14`, `kata load 14`). It is an ordinary
locustfile, so it runs in real Locust too, against `kata serve 14` (the public data):

    locust -f exercises/14_capstone/locustfile.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8000
"""

import random

from locust import HttpUser, between, task

# Organization 1 is the big customer (the most projects and tasks); 3 has no projects yet.
ORGANIZATIONS = [1, 1, 2, 3, 4]

# Customers of the public data the support team looks up, typed the way people type them.
EMAILS = [
    "alan.backus.2380@mail.test",
    "Donald.Liskov.3501@mail.test",
    "grace.backus.8092@corp.example",
    "katherine.knuth.8382@corp.example",
    "DENNIS.PERLMAN.8884@EXAMPLE.ORG",
    "john.allen.9537@example.com",
    "anita.wirth.9929@shop.test",
    "Katherine.Lamarr.12905@mail.test",
    "ken.perlman.12999@shop.test",
    "frances.lovelace.14738@example.com",
    "sophie.ritchie.15175@example.com",
    "tim.liskov.17273@mail.test",
]


class TaskBoardUser(HttpUser):
    """A team member (or the support desk) clicking around; HttpUser asks for gzip, as browsers do."""

    wait_time = between(1, 3)

    @task(4)
    def dashboard(self):
        org_id = random.choice(ORGANIZATIONS)
        self.client.get(f"/organizations/{org_id}/dashboard", name="/organizations/{id}/dashboard")

    @task(3)
    def customer_lookup(self):
        self.client.get("/customers/lookup", params={"email": random.choice(EMAILS)}, name="/customers/lookup")

    @task(2)
    def subscription(self):
        org_id = random.choice(ORGANIZATIONS)
        self.client.get(f"/organizations/{org_id}/subscription", name="/organizations/{id}/subscription")

    @task(1)
    def export(self):
        org_id = random.choice(ORGANIZATIONS)
        self.client.get(f"/organizations/{org_id}/tasks/export", name="/organizations/{id}/tasks/export")
