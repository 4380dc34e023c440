"""A small sale in real browsers, second by second: what each shopper was told, and when.

Starts the platform as the Procfile runs it (bench/harness.py: granian web, gunicorn api, `yakku worker`,
`yakku admitter`, a private Redis, SQLite or DATABASE_URL), seeds --shoppers buyers and a product with
--units in stock, and arms a sale that opens --opens-in seconds later. Each shopper logs in to the
storefront in a headless Chromium (Debian's, /usr/bin/chromium) and joins the queue from the product
page before the opening (the published draw orders them). Each acts out a part once their turn comes,
by the order the turns come in:

- buyer: pays with a good card;
- no-show (the --no-show'th turn, default the first): never submits; the ticket runs out after --window s;
- walk-away (the --walk-away'th turn, default the third): pays with a card that is declined, then closes
  the page (the units wait --decline-grace s for another card, then go to the next shopper in line).

Every second it reads each open page's status heading and prints a line whenever one changes, with the
seconds since the opening; at the end, the final word each shopper got, and the sale's audit. It exits
1 if a shopper was told "Sold out" while a unit was unsold, or if the audit is red.

Run:  python bench/browser_sale.py [--shoppers 8] [--units 5] [--window 30] [--decline-grace 10]
                                   [--no-show 2] [--walk-away 4] [--rate 1] [--run-time 180]
"""

import argparse
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import YAKKU, platform  # noqa: E402
from load_sale import BUYER_PASSWORD, add_product, open_sale, operator_headers  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
GOOD_CARD, DECLINED_CARD = "4242 4242 4242 4242", "4000 0000 0000 0002"
TURN, PAID, SOLD_OUT = "It's your turn", "Your order is paid", "Sold out"
COUNTDOWN = re.compile(r"opens in [\d:]+")


class Shopper:
    """One browser tab and the part its shopper plays."""

    def __init__(self, number: int, page):
        self.number, self.page, self.part = number, page, "waiting"
        self.told, self.paid_with, self.left = None, None, False
        self.heard: list[tuple[float, str]] = []

    def read(self) -> str:
        if self.left:
            return self.told
        heading = self.page.locator("#sale-status h1")
        text = heading.first.inner_text(timeout=2_000) if heading.count() else "(no status)"
        extra = self.page.locator("#sale-status .alert")
        if extra.count():
            text += " / " + extra.first.inner_text(timeout=2_000)
        return " ".join(text.split())

    def act(self) -> None:
        """Do what the part says once the checkout panel shows (and once the decline shows, walk away)."""
        if self.left or self.told is None:
            return
        if self.told.startswith(TURN) and self.part != "no-show" and self.paid_with is None:
            self.paid_with = DECLINED_CARD if self.part == "walk-away" else GOOD_CARD
            page = self.page
            page.get_by_label("Card number").fill(self.paid_with)
            page.get_by_label("Month").select_option("12")
            page.get_by_label("Year").select_option(str(date.today().year + 2))
            page.get_by_label("CVC").fill("123")
            page.get_by_role("button", name="Pay now").click()
        elif self.part == "walk-away" and "declined" in self.told.lower():
            self.page.context.close()
            self.left, self.told = True, f"{self.told} (closed the page)"


def run(args) -> int:
    from playwright.sync_api import sync_playwright

    with platform(api_workers=2, web=True, events=True) as shop:
        subprocess.run(
            [*YAKKU, "seed-buyers", "--count", str(args.shoppers), "--password", BUYER_PASSWORD],
            env=shop.env,
            check=True,
            capture_output=True,
        )
        shop.workers(2)
        shop.admitter()
        headers = operator_headers(shop)
        product_id = add_product(shop, args.units)
        sale_id = open_sale(shop, headers, product_id, args)
        armed_at = time.monotonic()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            shoppers = []
            for n in range(1, args.shoppers + 1):
                page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
                page.goto(f"{shop.web_url}/account/login?next=/products/{product_id}")
                page.get_by_label("E-mail address").fill(f"buyer{n}@load.yakku.example")
                page.get_by_label("Password").fill(BUYER_PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.get_by_role("button", name="Join the queue").click()
                page.wait_for_selector("#sale-status")
                shoppers.append(Shopper(n, page))
            opened_at = armed_at + args.opens_in
            print(
                f"sale {sale_id}: {args.units} units, {args.shoppers} shoppers joined; opens in "
                f"{opened_at - time.monotonic():.0f} s; window {args.window} s, decline grace "
                f"{args.decline_grace} s; no-show: turn {args.no_show}, "
                f"walk-away: turn {args.walk_away}"
            )
            unsold_lies = watch(shoppers, sale_id, shop, headers, opened_at, args)
            browser.close()
        audit = requests.get(f"{shop.api_url}/api/sales/{sale_id}/audit", headers=headers, timeout=10).json()
        print("\nfinal words:")
        for s in shoppers:
            print(f"  shopper {s.number} ({s.part}): {s.told}")
        figures = audit.get("figures", {})
        print(
            f"audit {'green' if audit.get('ok') else 'RED'}: "
            + ", ".join(f"{k} {figures[k]}" for k in ("sold", "left", "orders_paid") if k in figures)
        )
        for check in audit.get("checks", []):
            if not check.get("ok"):
                print(f"  broken: {check['name']}: {check.get('detail')}")
        print(f"told sold out while a unit was unsold: {unsold_lies}")
        return 0 if audit.get("ok") and unsold_lies == 0 else 1


def watch(shoppers, sale_id, shop, headers, opened_at, args) -> int:
    """Poll every page each second until every shopper has a final word; the sold-out lies seen."""
    deadline, lies, turns = time.monotonic() + args.opens_in + args.run_time, 0, 0
    while time.monotonic() < deadline:
        for s in shoppers:
            now = s.read()
            if now != s.told:
                # the countdown before the opening ticks every second: not news
                news = COUNTDOWN.sub("", now) != COUNTDOWN.sub("", s.told or "")
                s.told = now
                s.heard.append((time.monotonic() - opened_at, now))
                if news:
                    print(
                        f"{time.monotonic() - opened_at:+7.1f} s  shopper {s.number} ({s.part}): {now}",
                        flush=True,
                    )
                if now.startswith(SOLD_OUT):
                    lies += _sold_out_while_unsold(shop, headers, sale_id, args.units)
            if s.part == "waiting" and (s.told or "").startswith(TURN):
                turns += 1
                s.part = {args.no_show: "no-show", args.walk_away: "walk-away"}.get(turns, "buyer")
                print(f"          shopper {s.number} has turn {turns}: plays the {s.part}")
            s.act()
        if (
            all(
                s.left or (s.told or "").startswith((PAID, SOLD_OUT)) or "expired" in (s.told or "").lower()
                for s in shoppers
            )
            and time.monotonic() > opened_at
        ):
            break
        time.sleep(1)
    return lies


def _sold_out_while_unsold(shop, headers, sale_id: int, units: int) -> int:
    """1 if the sale has units unpaid (and is not closed) as a shopper reads "Sold out", else 0."""
    audit = requests.get(f"{shop.api_url}/api/sales/{sale_id}/audit", headers=headers, timeout=10).json()
    sold = audit.get("figures", {}).get("sold", 0)
    if sold < units:
        print(f"          !! sold out said with {sold} of {units} sold")
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=8)
    parser.add_argument("--units", type=int, default=5)
    parser.add_argument("--rate", type=float, default=1, help="Admissions per second.")
    parser.add_argument("--cap", type=int, default=10)
    parser.add_argument("--window", type=int, default=30, help="Checkout window of a ticket, seconds.")
    parser.add_argument("--decline-grace", type=int, default=10)
    parser.add_argument("--no-show", type=int, default=1, help="Which turn never pays (0: none).")
    parser.add_argument("--walk-away", type=int, default=3, help="Which turn is declined, leaves (0: none).")
    parser.add_argument("--opens-in", type=float, default=None, help="Seconds from arming to opening.")
    parser.add_argument("--run-time", type=int, default=180, help="Seconds to watch after the opening.")
    args = parser.parse_args()
    if args.opens_in is None:
        args.opens_in = 10 + 3 * args.shoppers  # each shopper logs in and joins before the opening
    sys.exit(run(args))


if __name__ == "__main__":
    main()
