"""What the shop gives away: whether an address has an account, links in the worker's log (issue 12, 8)."""

import logging

from accounts_helpers import drain_mail, latest_message

from yakku.queues import QueueName, get_queue

SIGNUP = "/api/accounts/signup"


def sign_up(client, email: str, name: str = "Someone"):
    return client.post(SIGNUP, json={"name": name, "email": email, "password": "a new password"})


def test_sign_up_answers_a_taken_address_as_it_answers_a_new_one(app, client, shoppers):
    ada = shoppers.verified(email="ada@example.test")
    taken = sign_up(client, "ADA@example.test")
    new = sign_up(client, "nobody-yet@example.test")
    assert (taken.status_code, taken.json) == (new.status_code, new.json)

    drain_mail(app)
    told = latest_message(app, ada.email)
    assert told["Subject"] == "You already have a Yakku account"
    assert "http://shop.test/account/login" in told.get_content()
    assert "token=" not in told.get_content()  # no link that would sign anyone in


def test_the_storefront_sends_a_taken_address_where_it_sends_a_new_one(shop_web, shoppers, web):
    taken = shoppers.verified()
    answers = [
        web.post("/account/signup", data={"name": "X", "email": email, "password": "a new password"})
        for email in (taken.email, "brand-new@example.test")
    ]
    assert {(a.status_code, a.headers["Location"]) for a in answers} == {(302, "/account/check-email")}


def test_the_mail_job_keeps_links_and_addresses_out_of_the_worker_log(app, client, caplog):
    sign_up(client, "ada@example.test")
    with app.app_context():
        [job] = get_queue(QueueName.MAIL).get_jobs()
    assert job.description == "send_email: Confirm your e-mail address for Yakku"
    with caplog.at_level(logging.DEBUG):
        drain_mail(app)
    assert "token=" not in caplog.text and "ada@example.test" not in caplog.text
    assert "token=" in latest_message(app, "ada@example.test").get_content()  # the mail has it
