"""Loads the demo data once through the public API: one project with 40 units and 200
prospects who have named the units they want. Running it again changes nothing."""

from __future__ import annotations

import random
import sys
import time

import httpx

PROJECT = "Brf Utsikten"
FIRST = ["Anna", "Erik", "Maja", "Lars", "Åsa", "Björn", "Elin", "Jörgen", "Karin", "Olof", "Sofia", "Mattias",
         "Ingrid", "Per", "Linnéa", "Göran", "Emma", "Nils", "Märta", "Oskar"]
LAST = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
        "Gustafsson", "Pettersson", "Jönsson", "Ström", "Åberg", "Öberg", "Lindqvist", "Bäckström", "Hägg"]


def main(gateway: str) -> None:
    rnd = random.Random(42)
    with httpx.Client(base_url=f"{gateway}/api/v1", timeout=30) as api:
        token = api.post("/auth/token", json={"username": "admin", "password": "admin"}).raise_for_status().json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        projects = api.get("/projects", params={"limit": 500}).raise_for_status().json()["items"]
        if any(p["name"] == PROJECT for p in projects):
            print("demo data: already loaded")
            return
        project = api.post("/projects", json={"name": PROJECT}).raise_for_status().json()
        unit_ids = []
        for house in "AB":
            for floor in range(1, 5):
                for n in range(1, 6):
                    rooms = rnd.choice([1, 2, 2, 3, 3, 4, 5])
                    unit = api.post(
                        "/units",
                        json={
                            "project_id": project["id"],
                            "name": f"{house}-{1000 + floor * 100 + n}",
                            "rooms": rooms,
                            "living_area_sqm": round(25 + rooms * 19 + rnd.random() * 8, 1),
                            "floor": floor,
                            "price_sek": 1_950_000 + rooms * 850_000 + floor * 75_000,
                            "monthly_fee_sek": 1_800 + rooms * 950,
                            "description": f"{rooms} rum och kök, våning {floor}.",
                        },
                    ).raise_for_status().json()
                    unit_ids.append(unit["id"])
        for i in range(200):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            body = {
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}.{i}@example.se".lower().replace("å", "a").replace("ä", "a").replace("ö", "o").replace("é", "e"),
                "phone": f"070-{rnd.randint(100, 999)} {rnd.randint(10, 99)} {rnd.randint(10, 99)}",
                "interests": rnd.sample(unit_ids, rnd.randint(1, 4)),
            }
            # the prospects service learns of new units through events: give it a moment
            for _ in range(100):
                resp = api.post("/prospects", json=body)
                if resp.status_code != 404:
                    break
                time.sleep(0.1)
            resp.raise_for_status()
        print(f"demo data: project {PROJECT!r} with {len(unit_ids)} units and 200 prospects")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
