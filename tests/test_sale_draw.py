"""A draw anyone can check: the seed's SHA-256 published when the sale is armed, the pre-queue placed at
opening in the order recomputable from the seed and the entries then published, `yakku verify-draw`."""

import json
from datetime import timedelta

import pytest
from admission_helpers import T0
from click.testing import CliRunner

from admission import draw, sales, waiting_room
from admission.keys import sale_keys
from admission.models import SaleDraw
from admission.replies import LifecycleOutcome
from admission.scripts import scripts
from yakku.cli import main
from yakku.extensions import db

HX = {"HX-Request": "true"}
EARLY = list(range(101, 141))  # forty shoppers who join before opening


def _published(client, sale_id: int) -> dict:
    answer = client.get(f"/api/sales/{sale_id}/draw")  # no token: anyone may check
    assert answer.status_code == 200, answer.json
    return answer.json


def _verify(config, *args) -> tuple[int, str]:
    names = ("REDIS_URL", "SALES_REDIS_URL", "DATABASE_URL")
    env = {name: config[name] for name in names if config.get(name)}
    result = CliRunner().invoke(main, ["verify-draw", *map(str, args)], env=env)
    return result.exit_code, result.output


@pytest.fixture
def drawn(sales_ops):
    """A sale armed with forty shoppers in its pre-queue, then opened: its id."""
    sale = sales_ops.armed(units=100, rate=5)
    sales_ops.join(sale, *EARLY)
    sales_ops.open(sale)
    return sale


def test_arming_publishes_the_seeds_hash_and_keeps_the_seed_secret(client, sales_ops):
    sale = sales_ops.armed()
    published = _published(client, sale)
    assert len(published["commitment"]) == 64 and published["salt"]
    assert published["seed"] is None and published["entries"] is None
    seed = sales_ops.redis.hget(sale_keys(sale).settings, "draw_seed")  # only the platform reads it
    assert draw.sha256(seed) == published["commitment"]
    assert seed not in json.dumps(published) and seed not in json.dumps(sales.sale_figures(sale))


def test_opening_publishes_the_seed_and_the_entries_in_draw_order(client, sales_ops, drawn):
    published = _published(client, drawn)
    assert draw.sha256(published["seed"]) == published["commitment"]
    mine = {draw.entry_of(published["salt"], shopper): shopper for shopper in EARLY}
    assert sorted(published["entries"]) == sorted(mine)  # every early joiner, as a hash of their id
    assert published["entries"] == draw.draw_order(published["seed"], list(mine))
    assert published["drawn_at"].endswith("+00:00")


def test_the_queue_is_placed_in_the_order_recomputed_from_the_published_draw(client, sales_ops, drawn):
    published = _published(client, drawn)
    recomputed = draw.draw_order(published["seed"], [draw.entry_of(published["salt"], s) for s in EARLY])
    placed = [draw.entry_of(published["salt"], shopper) for shopper in sales_ops.queue(drawn)]
    assert placed == recomputed and sales_ops.queue(drawn) != sorted(EARLY)


def test_each_shopper_finds_their_own_entry_and_place(sales_ops, drawn):
    queue = sales_ops.queue(drawn)
    for shopper in (queue[0], queue[16]):
        mine = draw.shopper_entry(drawn, shopper)
        assert (mine.place, mine.total) == (queue.index(shopper) + 1, len(EARLY))
        assert mine.entry == draw.entry_of(draw.published(drawn)["salt"], shopper)
    late = sales_ops.join(drawn, 999)[0]  # joined after opening: in line, not in the draw
    assert late.position == len(EARLY) + 1 and draw.shopper_entry(drawn, 999).place is None


def test_the_admitter_opening_on_time_publishes_the_draw(client, sales_ops):
    sale = sales_ops.armed()
    sales_ops.join(sale, *EARLY[:5])
    opens_at = sales.get_sale(sale).opens_at_epoch
    assert sales_ops.tick(opens_at + 1)[0].opened  # in Redis only: the row learns of it when read
    published = _published(client, sale)
    assert published["seed"] and len(published["entries"]) == 5


def test_a_snapshot_that_misses_a_late_joiner_is_refused_and_nothing_moves(sales_ops):
    sale = sales_ops.armed()
    sales_ops.join(sale, *EARLY[:3])
    salt = sales_ops.redis.hget(sale_keys(sale).settings, "draw_salt")
    snapshot = [T0]
    for shopper in EARLY[:2]:  # the third joined after the snapshot was read
        snapshot += [shopper, draw.entry_of(salt, shopper)]
    answer = scripts().open(sale, snapshot)
    assert (answer.outcome, answer.detail) == (LifecycleOutcome.STALE, 1)
    assert sales_ops.redis.hget(sale_keys(sale).settings, "state") == "armed"
    assert sales_ops.redis.scard(sale_keys(sale).prequeue) == 3 and sales_ops.queue(sale) == []
    assert waiting_room.open_in_redis(sale, T0)  # drawn again, with the third
    assert sorted(sales_ops.queue(sale)) == EARLY[:3]


def test_verify_draw_says_the_published_draw_matches(config, sales_ops, drawn):
    code, output = _verify(config, drawn)
    assert code == 0, output
    assert f"draw of sale {drawn}: matches" in output and "[ok] queue" in output


def test_verify_draw_says_a_tampered_entry_list_does_not_match(config, sales_ops, drawn):
    row = db.session.get(SaleDraw, drawn)
    entries = list(row.entries)
    entries[3], entries[4] = entries[4], entries[3]  # two places swapped after the fact
    row.entries = entries
    db.session.commit()
    code, output = _verify(config, drawn)
    assert code == 1 and f"draw of sale {drawn}: DOES NOT MATCH" in output
    assert "[BROKEN] order: 2 of 40 entries out of the recomputed order" in output
    assert "[BROKEN] queue" in output


def test_verify_draw_checks_a_saved_copy_without_the_platform(tmp_path, client, sales_ops, drawn):
    saved = tmp_path / "draw.json"
    published = _published(client, drawn)
    saved.write_text(json.dumps(published))
    result = CliRunner().invoke(main, ["verify-draw", str(drawn), "--file", str(saved)])
    assert result.exit_code == 0 and "matches" in result.output
    saved.write_text(json.dumps({**published, "seed": "00" * 32}))
    result = CliRunner().invoke(main, ["verify-draw", str(drawn), "--file", str(saved)])
    assert result.exit_code == 1 and "[BROKEN] commitment" in result.output


def test_the_shop_shows_the_commitment_then_each_shopper_their_entry_and_place(
    app, shop_web, web, operator, shoppers
):
    with app.app_context():
        data = {"product_id": shop_web.ids["Jeju"], "units": 3, "admission_rate": 5, "admitted_cap": 5}
        data |= {"checkout_window_s": 120, "per_shopper_limit": 1}
        sale = sales.create_sale({**data, "opens_at": sales.utcnow() + timedelta(hours=1)}, operator_id=1).id
        sales.arm_sale(sale)
        waiting_room.join(sale, shoppers.verified().id)
        commitment = draw.published(sale)["commitment"]
    me = shop_web.sign_in()
    assert commitment in web.get(f"/products/{shop_web.ids['Jeju']}").get_data(as_text=True)
    web.post(f"/sales/{sale}/join")
    with app.app_context():
        mine = draw.entry_of(draw.published(sale)["salt"], me.id)
    before = web.get(f"/sales/{sale}/wait", headers=HX).get_data(as_text=True)
    assert f"Your draw entry: <code>{mine}</code>" in before and commitment in before
    with app.app_context():
        sales.open_sale(sale)
        place = waiting_room.status(sale, me.id).position
    after = web.get(f"/sales/{sale}/wait", headers=HX).get_data(as_text=True)
    assert f"place <strong>{place}</strong> of 2 in the draw" in after
    page = web.get(f"/sales/{sale}/draw").get_data(as_text=True)
    assert commitment in page and 'class="sale-draw-mine"' in page and mine in page
    shop_web.sign_in(operator)
    dashboard = web.get(f"/ops/sales/{sale}").get_data(as_text=True)
    assert "Draw: commitment" in dashboard and "2 entries drawn" in dashboard
